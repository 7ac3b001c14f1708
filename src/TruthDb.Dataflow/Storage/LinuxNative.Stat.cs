using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace TruthDb.Dataflow.Storage;

internal static partial class LinuxNative
{
    private const int AtEmptyPath = 0x1000;
    private const uint StatxNlink = 0x4;
    private const uint StatxSize = 0x200;

    // struct statx is the same on every architecture: 256 bytes, stx_nlink (u32) at 16, stx_size (u64) at 40.
    private const int StatxLength = 256;
    private const int StatxNlinkOffset = 16;
    private const int StatxSizeOffset = 40;

    /// <summary>
    /// statx(2) of the open file behind <paramref name="handle"/>: its size, and its number of links
    /// (0 once the file was deleted or replaced by a rename over its name). One system call, no path lookup.
    /// </summary>
    public static unsafe (long Size, uint Links) Stat(SafeFileHandle handle, string what)
    {
        var added = false;
        handle.DangerousAddRef(ref added);
        try
        {
            var fd = (int)handle.DangerousGetHandle();
            var buffer = stackalloc byte[StatxLength];
            fixed (byte* empty = "\0"u8)
            {
                while (StatX(fd, empty, AtEmptyPath, StatxNlink | StatxSize, buffer) != 0)
                {
                    ThrowUnlessInterrupted("statx", what);
                }
            }

            return (*(long*)(buffer + StatxSizeOffset), *(uint*)(buffer + StatxNlinkOffset));
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true)]
    private static unsafe partial int StatX(int dirfd, byte* path, int flags, uint mask, byte* buffer);
}

using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace TruthDb.Dataflow.Storage;

/// <summary>
/// The Linux system calls the runtime does not expose: fdatasync, fallocate, posix_fadvise, fsync of a
/// directory, and reads past the page cache (O_DIRECT). Each but the advisory posix_fadvise throws an <see cref="IOException"/> whose
/// HResult is the errno, like the runtime's own file errors, so <see cref="StorageErrors.IsDiskFull"/>
/// works on both.
/// </summary>
internal static partial class LinuxNative
{
    private const int ORdOnly = 0;
    private const int ODirectory = 0x10000;
    private const int OCloexec = 0x80000;
    private const int ODirect = 0x4000;
    private const int EIntr = 4;
    private const int EInval = 22;
    private const int EOpNotSupp = 95;
    private const int PosixFadvWillNeed = 3;

    /// <summary>
    /// The alignment of a direct read's offset, length and buffer: a multiple of every logical block
    /// size in common use (512 and 4,096 bytes).
    /// </summary>
    private const int DirectAlignment = 4096;

    /// <summary>True where these calls are used (Linux); elsewhere the portable fallbacks are.</summary>
    public static bool IsSupported => OperatingSystem.IsLinux();

    /// <summary>fdatasync(2) (or fsync(2) when <paramref name="full"/>) on the file behind <paramref name="handle"/>.</summary>
    public static void Sync(SafeFileHandle handle, bool full, string what)
    {
        var added = false;
        handle.DangerousAddRef(ref added);
        try
        {
            var fd = (int)handle.DangerousGetHandle();
            while ((full ? FSync(fd) : FDataSync(fd)) != 0)
            {
                ThrowUnlessInterrupted(full ? "fsync" : "fdatasync", what);
            }
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    /// <summary>fallocate(2) mode 0 of [0, length): reserves blocks so a later write cannot hit ENOSPC.</summary>
    /// <returns>False when the file system does not support fallocate.</returns>
    public static bool Allocate(SafeFileHandle handle, long length, string what)
    {
        var added = false;
        handle.DangerousAddRef(ref added);
        try
        {
            var fd = (int)handle.DangerousGetHandle();
            while (FAllocate(fd, 0, 0, length) != 0)
            {
                if (Marshal.GetLastPInvokeError() == EOpNotSupp)
                {
                    return false;
                }

                ThrowUnlessInterrupted("fallocate", what);
            }

            return true;
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    /// <summary>
    /// posix_fadvise(2) <c>POSIX_FADV_WILLNEED</c> of [offset, offset + length): the kernel reads the
    /// range into the page cache (reserved, unwritten extents read as zeros without any disk IO).
    /// </summary>
    /// <returns>False when the kernel refused the advice (it returns the error, and sets no errno).</returns>
    public static bool AdviseWillNeed(SafeFileHandle handle, long offset, long length)
    {
        var added = false;
        handle.DangerousAddRef(ref added);
        try
        {
            return FAdvise((int)handle.DangerousGetHandle(), offset, length, PosixFadvWillNeed) == 0;
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    /// <summary>fsync(2) of a directory, so entries created, renamed or deleted in it are durable.</summary>
    public static void SyncDirectory(string path)
    {
        var fd = Open(path, ORdOnly | ODirectory | OCloexec);
        if (fd < 0)
        {
            ThrowLast("open directory", path);
        }

        try
        {
            while (FSync(fd) != 0)
            {
                ThrowUnlessInterrupted("fsync directory", path);
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    /// <summary>
    /// Reads [<paramref name="offset"/>, <paramref name="offset"/> + <c>buffer.Length</c>) of the file
    /// behind <paramref name="handle"/> as the device holds it: through a descriptor of its own, opened
    /// on the same file (by its /proc/self/fd entry, whatever it is named now) with O_DIRECT, so the
    /// page cache is not read (the kernel writes dirty cached pages of the range back first, and
    /// reports a failure of that writeback as the read's error).
    /// </summary>
    /// <returns>False when the file system refuses direct IO (EINVAL); the bytes read are in <paramref name="read"/>, fewer than asked only at the end of the file.</returns>
    public static unsafe bool TryReadDirect(SafeFileHandle handle, string what, long offset, Span<byte> buffer, out int read)
    {
        read = 0;
        int fd;
        var added = false;
        handle.DangerousAddRef(ref added);
        try
        {
            fd = Open("/proc/self/fd/" + handle.DangerousGetHandle().ToString(System.Globalization.CultureInfo.InvariantCulture), ORdOnly | ODirect | OCloexec);
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }

        if (fd < 0)
        {
            if (Marshal.GetLastPInvokeError() == EInval)
            {
                return false;
            }

            ThrowLast("open (O_DIRECT)", what);
        }

        var start = offset & ~(long)(DirectAlignment - 1);
        var length = checked((int)((((offset + buffer.Length) + DirectAlignment - 1) & ~(long)(DirectAlignment - 1)) - start));
        var aligned = (byte*)NativeMemory.AlignedAlloc((nuint)length, DirectAlignment);
        try
        {
            var done = 0;
            while (done < length)
            {
                var count = (int)PRead(fd, aligned + done, (nuint)(length - done), start + done);
                if (count == 0)
                {
                    break;
                }

                if (count < 0)
                {
                    if (Marshal.GetLastPInvokeError() == EInval && done == 0)
                    {
                        // Opened, but the device wants a larger alignment than any in common use.
                        return false;
                    }

                    ThrowUnlessInterrupted("pread (O_DIRECT)", what);
                    continue;
                }

                done += count;
            }

            read = (int)Math.Clamp(done - (offset - start), 0, buffer.Length);
            new ReadOnlySpan<byte>(aligned + (offset - start), read).CopyTo(buffer);
            return true;
        }
        finally
        {
            NativeMemory.AlignedFree(aligned);
            _ = Close(fd);
        }
    }

    private static void ThrowUnlessInterrupted(string call, string what)
    {
        if (Marshal.GetLastPInvokeError() != EIntr)
        {
            ThrowLast(call, what);
        }
    }

    private static void ThrowLast(string call, string what)
    {
        var errno = Marshal.GetLastPInvokeError();
        var message = errno == StorageErrors.NoSpaceErrno
            ? $"No space left on device: {call} failed for '{what}'."
            : $"{call} failed for '{what}': {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno}).";
        throw new IOException(message, errno);
    }

    [LibraryImport("libc", EntryPoint = "fdatasync", SetLastError = true)]
    private static partial int FDataSync(int fd);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int FSync(int fd);

    [LibraryImport("libc", EntryPoint = "fallocate", SetLastError = true)]
    private static partial int FAllocate(int fd, int mode, long offset, long length);

    [LibraryImport("libc", EntryPoint = "posix_fadvise")]
    private static partial int FAdvise(int fd, long offset, long length, int advice);

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "pread", SetLastError = true)]
    private static unsafe partial nint PRead(int fd, byte* buffer, nuint count, long offset);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}

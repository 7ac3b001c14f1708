using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace TruthDb.Dataflow.Storage;

/// <summary>
/// The Linux system calls the runtime does not expose: fdatasync, fallocate, posix_fadvise, fsync of a
/// directory, and reads and writes past the page cache (O_DIRECT). Each but the advisory posix_fadvise throws an <see cref="IOException"/> whose
/// HResult is the errno, like the runtime's own file errors, so <see cref="StorageErrors.IsDiskFull"/>
/// works on both.
/// </summary>
internal static partial class LinuxNative
{
    private const int ORdOnly = 0;
    private const int OWrOnly = 1;
    private const int ODirectory = 0x10000;
    private const int OCloexec = 0x80000;
    private const int ODirect = 0x4000;
    private const int EIntr = 4;
    private const int EInval = 22;
    private const int EOpNotSupp = 95;
    private const int PosixFadvWillNeed = 3;

    /// <summary>The alignment of a direct read's or write's buffer (<see cref="IStorageFile.DirectBlockSize"/>).</summary>
    private const int DirectAlignment = IStorageFile.DirectBlockSize;

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
                var errno = Marshal.GetLastPInvokeError();
                if (errno != EIntr)
                {
                    // The file's name now: a segment is synced under its prepared name, then renamed.
                    Throw(errno, full ? "fsync" : "fdatasync", CurrentPath(fd, what));
                }
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
        var fd = OpenDirect(handle, ORdOnly, what);
        if (fd < 0)
        {
            return false;
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

    /// <summary>
    /// Writes <paramref name="data"/> at <paramref name="offset"/> of the file behind
    /// <paramref name="handle"/> past the page cache: through a descriptor of its own opened with
    /// O_DIRECT, like <see cref="TryReadDirect"/> (the kernel drops the range's cached pages after the
    /// write, or unmaps them). Offset and length must be multiples of <see cref="IStorageFile.DirectBlockSize"/>.
    /// Durable only after a sync, like any write.
    /// </summary>
    /// <returns>False when the file system refuses direct IO (EINVAL); then nothing was written.</returns>
    public static unsafe bool TryWriteDirect(SafeFileHandle handle, string what, long offset, ReadOnlySpan<byte> data)
    {
        var fd = OpenDirect(handle, OWrOnly, what);
        if (fd < 0)
        {
            return false;
        }

        var aligned = (byte*)NativeMemory.AlignedAlloc((nuint)data.Length, DirectAlignment);
        try
        {
            data.CopyTo(new Span<byte>(aligned, data.Length));
            var done = 0;
            while (done < data.Length)
            {
                var count = (int)PWrite(fd, aligned + done, (nuint)(data.Length - done), offset + done);
                if (count < 0)
                {
                    if (Marshal.GetLastPInvokeError() == EInval && done == 0)
                    {
                        return false;
                    }

                    ThrowUnlessInterrupted("pwrite (O_DIRECT)", what);
                    continue;
                }

                done += count;
            }

            return true;
        }
        finally
        {
            NativeMemory.AlignedFree(aligned);
            _ = Close(fd);
        }
    }

    // A second descriptor of the file behind `handle` (by its /proc/self/fd entry: the same file,
    // whatever it is named now; by `path`, the name it was opened with, where /proc is not mounted),
    // opened with O_DIRECT; -1 when the file system refuses direct IO.
    private static int OpenDirect(SafeFileHandle handle, int access, string path)
    {
        int fd;
        var added = false;
        handle.DangerousAddRef(ref added);
        try
        {
            fd = Open("/proc/self/fd/" + handle.DangerousGetHandle().ToString(System.Globalization.CultureInfo.InvariantCulture), access | ODirect | OCloexec);
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }

        if (fd < 0 && Marshal.GetLastPInvokeError() == ENoEnt)
        {
            fd = Open(path, access | ODirect | OCloexec);
        }

        if (fd < 0)
        {
            if (Marshal.GetLastPInvokeError() == EInval)
            {
                return -1;
            }

            ThrowLast("open (O_DIRECT)", path);
        }

        return fd;
    }

    // The path of the open file `fd` as the kernel names it now (it follows renames), or `fallback`.
    private static string CurrentPath(int fd, string fallback)
    {
        try
        {
            return new FileInfo("/proc/self/fd/" + fd.ToString(System.Globalization.CultureInfo.InvariantCulture)).LinkTarget ?? fallback;
        }
        catch (IOException)
        {
            return fallback;
        }
    }

    private static void ThrowUnlessInterrupted(string call, string what)
    {
        if (Marshal.GetLastPInvokeError() != EIntr)
        {
            ThrowLast(call, what);
        }
    }

    private static void ThrowLast(string call, string what) => Throw(Marshal.GetLastPInvokeError(), call, what);

    private static void Throw(int errno, string call, string what)
    {
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

    [LibraryImport("libc", EntryPoint = "pwrite", SetLastError = true)]
    private static unsafe partial nint PWrite(int fd, byte* buffer, nuint count, long offset);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}

using System.Runtime.InteropServices;

namespace TruthDb.Dataflow.Storage;

internal static partial class LinuxNative
{
    /// <summary>inotify event bits (inotify(7)).</summary>
    public const uint InModify = 0x2;
    public const uint InAttrib = 0x4;
    public const uint InMovedFrom = 0x40;
    public const uint InMovedTo = 0x80;
    public const uint InCreate = 0x100;
    public const uint InDelete = 0x200;
    public const uint InDeleteSelf = 0x400;
    public const uint InMoveSelf = 0x800;
    public const uint InQueueOverflow = 0x4000;
    public const uint InIgnored = 0x8000;
    public const uint InOnlyDir = 0x01000000;

    /// <summary>The size of <c>struct inotify_event</c> before its name: wd, mask, cookie, len.</summary>
    public const int InotifyEventHeader = 16;

    private const int ONonBlock = 0x800;
    private const int ENoEnt = 2;
    private const int EAgain = 11;
    private const short PollIn = 1;

    /// <summary>inotify_init1(IN_NONBLOCK | IN_CLOEXEC): a new inotify instance.</summary>
    public static int InotifyOpen(string what)
    {
        var fd = InotifyInit1(ONonBlock | OCloexec);
        if (fd < 0)
        {
            ThrowLast("inotify_init1 (the per-user limit is fs.inotify.max_user_instances)", what);
        }

        return fd;
    }

    /// <summary>inotify_add_watch(2); -1 when <paramref name="path"/> does not exist.</summary>
    public static int InotifyWatch(int fd, string path, uint mask)
    {
        var wd = InotifyAddWatch(fd, path, mask);
        if (wd < 0 && Marshal.GetLastPInvokeError() != ENoEnt)
        {
            ThrowLast("inotify_add_watch (the per-user limit is fs.inotify.max_user_watches)", path);
        }

        return wd;
    }

    /// <summary>inotify_rm_watch(2); a watch the kernel already dropped is no error.</summary>
    public static void InotifyUnwatch(int fd, int wd) => _ = InotifyRmWatch(fd, wd);

    /// <summary>eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC): a counter another thread can wake a poll with.</summary>
    public static int EventFdOpen(string what)
    {
        var fd = EventFd(0, ONonBlock | OCloexec);
        if (fd < 0)
        {
            ThrowLast("eventfd", what);
        }

        return fd;
    }

    /// <summary>Adds one to the eventfd <paramref name="fd"/>, which makes it readable.</summary>
    public static unsafe void EventFdSignal(int fd)
    {
        var one = 1UL;
        _ = Write(fd, &one, sizeof(ulong));
    }

    /// <summary>
    /// poll(2) for input on two descriptors, up to <paramref name="timeoutMs"/> (-1: no limit); an
    /// interrupted poll returns as a timeout. Returns which of them are readable.
    /// </summary>
    public static unsafe (bool First, bool Second) PollReadable(int first, int second, int timeoutMs)
    {
        var fds = stackalloc PollFd[2];
        fds[0] = new PollFd { Fd = first, Events = PollIn };
        fds[1] = new PollFd { Fd = second, Events = PollIn };
        if (Poll(fds, 2, timeoutMs) < 0 && Marshal.GetLastPInvokeError() != EIntr)
        {
            ThrowLast("poll", "inotify");
        }

        return (fds[0].ReturnedEvents != 0, fds[1].ReturnedEvents != 0);
    }

    /// <summary>read(2) of a non-blocking descriptor: the bytes read, 0 when nothing is there now.</summary>
    public static unsafe int ReadNonBlocking(int fd, Span<byte> buffer, string what)
    {
        fixed (byte* bytes = buffer)
        {
            while (true)
            {
                var read = Read(fd, bytes, (nuint)buffer.Length);
                if (read >= 0)
                {
                    return (int)read;
                }

                var errno = Marshal.GetLastPInvokeError();
                if (errno == EAgain)
                {
                    return 0;
                }

                if (errno != EIntr)
                {
                    ThrowLast("read", what);
                }
            }
        }
    }

    /// <summary>close(2).</summary>
    public static void CloseDescriptor(int fd) => _ = Close(fd);

    [StructLayout(LayoutKind.Sequential)]
    private struct PollFd
    {
        public int Fd;
        public short Events;
        public short ReturnedEvents;
    }

    [LibraryImport("libc", EntryPoint = "inotify_init1", SetLastError = true)]
    private static partial int InotifyInit1(int flags);

    [LibraryImport("libc", EntryPoint = "inotify_add_watch", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int InotifyAddWatch(int fd, string path, uint mask);

    [LibraryImport("libc", EntryPoint = "inotify_rm_watch", SetLastError = true)]
    private static partial int InotifyRmWatch(int fd, int wd);

    [LibraryImport("libc", EntryPoint = "eventfd", SetLastError = true)]
    private static partial int EventFd(uint initial, int flags);

    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    private static unsafe partial int Poll(PollFd* fds, nuint count, int timeoutMs);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    private static unsafe partial nint Read(int fd, void* buffer, nuint count);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    private static unsafe partial nint Write(int fd, void* buffer, nuint count);
}

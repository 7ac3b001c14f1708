using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace TruthDb.Dataflow.Perf.DiskProbe;

/// <summary>fdatasync(2), which the runtime does not expose (<c>Flush(true)</c> is a full fsync).</summary>
internal static partial class Native
{
    private const int EIntr = 4;

    public static void DataSync(SafeFileHandle handle)
    {
        var fd = (int)handle.DangerousGetHandle();
        while (FDataSync(fd) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno != EIntr)
            {
                throw new IOException($"fdatasync failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno}).", errno);
            }
        }
    }

    [LibraryImport("libc", EntryPoint = "fdatasync", SetLastError = true)]
    private static partial int FDataSync(int fd);
}

using System.Globalization;
using System.Runtime.InteropServices;

namespace TruthDb.Dataflow.Perf.Reporting;

/// <summary>The facts a result needs to be read: processors, memory, OS and kernel, runtime, and the filesystem under the log.</summary>
internal sealed record MachineInfo(int Processors, long MemoryBytes, string OperatingSystem, string Runtime, string FileSystem)
{
    public static MachineInfo Describe(string directory) => new(
        Environment.ProcessorCount,
        GC.GetGCMemoryInfo().TotalAvailableMemoryBytes,
        Kernel() is { } kernel ? $"{RuntimeInformation.OSDescription}, kernel {kernel}" : RuntimeInformation.OSDescription,
        RuntimeInformation.FrameworkDescription,
        FileSystemOf(Path.GetFullPath(directory)));

    public override string ToString() => string.Create(
        CultureInfo.InvariantCulture,
        $"{Processors} processors, {MemoryBytes / (1024.0 * 1024 * 1024):N1} GiB memory, {OperatingSystem}, {Runtime}, filesystem {FileSystem}");

    private static string? Kernel()
    {
        const string Release = "/proc/sys/kernel/osrelease";
        return File.Exists(Release) ? File.ReadAllText(Release).Trim() : null;
    }

    // The mount with the longest mount point that contains the path, from /proc/mounts (Linux only).
    private static string FileSystemOf(string path)
    {
        const string Mounts = "/proc/mounts";
        if (!File.Exists(Mounts))
        {
            return "unknown";
        }

        var best = "unknown";
        var bestLength = -1;
        foreach (var line in File.ReadLines(Mounts))
        {
            var fields = line.Split(' ');
            if (fields.Length < 3)
            {
                continue;
            }

            var mountPoint = fields[1].Replace("\\040", " ", StringComparison.Ordinal);
            var contains = mountPoint == "/" || path == mountPoint || path.StartsWith(mountPoint + "/", StringComparison.Ordinal);
            if (contains && mountPoint.Length > bestLength)
            {
                best = $"{fields[2]} ({fields[0]} on {mountPoint})";
                bestLength = mountPoint.Length;
            }
        }

        return best;
    }
}

using System.Diagnostics;
using System.Globalization;

namespace TruthDb.Dataflow.Tests.Support;

/// <summary>
/// A real, small file system for disk-full tests: a tmpfs of a few MiB mounted at a fresh directory
/// under the temp folder (this needs root, which the test machines and CI have), unmounted and
/// removed on dispose. Mounting that fails throws, naming the reason: these tests never skip.
/// </summary>
internal sealed class SmallFileSystem : IDisposable
{
    private const string FillName = "fill";

    private SmallFileSystem(string path) => MountPoint = path;

    /// <summary>The directory the file system is mounted at.</summary>
    public string MountPoint { get; }

    /// <summary>The bytes the file system still has room for.</summary>
    public long Available => Product(Run("stat", "--file-system", "--format=%a %S", MountPoint));

    /// <summary>Mounts a tmpfs of <paramref name="bytes"/> bytes.</summary>
    public static SmallFileSystem Mount(long bytes)
    {
        var path = Path.Combine(Path.GetTempPath(), "truthdb-tmpfs-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        try
        {
            Run("mount", "-t", "tmpfs", "-o", string.Create(CultureInfo.InvariantCulture, $"size={bytes},mode=0700"), "tmpfs", path);
        }
        catch (Exception ex)
        {
            Directory.Delete(path);
            throw new InvalidOperationException(
                $"Could not mount a {bytes}-byte tmpfs at '{path}' for a disk-full test: {ex.Message} These tests need root (mount(8) of a tmpfs); they do not skip.", ex);
        }

        return new SmallFileSystem(path);
    }

    /// <summary>Fills the file system with real bytes until only <paramref name="leave"/> bytes are free.</summary>
    public void FillLeaving(long leave)
    {
        var fill = Available - leave;
        if (fill < 0)
        {
            throw new InvalidOperationException($"The file system has only {Available} bytes free, less than the {leave} to leave.");
        }

        var chunk = new byte[1024 * 1024];
        Array.Fill(chunk, (byte)0xA5);
        using (var file = new FileStream(Path.Combine(MountPoint, FillName), FileMode.Append, FileAccess.Write))
        {
            for (long written = 0; written < fill; written += chunk.Length)
            {
                file.Write(chunk, 0, (int)Math.Min(chunk.Length, fill - written));
            }
        }

        if (Available != leave)
        {
            throw new InvalidOperationException($"Filled the file system, but {Available} bytes are free instead of {leave}.");
        }
    }

    /// <summary>Removes what <see cref="FillLeaving"/> wrote.</summary>
    public void Free() => File.Delete(Path.Combine(MountPoint, FillName));

    /// <summary>The bytes a file really occupies (allocated blocks, not its length).</summary>
    public static long AllocatedBytes(string path) => Product(Run("stat", "--format=%b %B", path));

    public void Dispose()
    {
        // A lazy unmount as a fallback: a handle still open somewhere must not leave the mount behind.
        try
        {
            Run("umount", MountPoint);
        }
        catch (InvalidOperationException)
        {
            Run("umount", "--lazy", MountPoint);
        }

        Directory.Delete(MountPoint);
    }

    /// <summary>Runs <paramref name="program"/> as a child process; returns its output, or throws with its error output when it fails.</summary>
    public static string Run(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{program} did not start.");
        var output = process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} exited with {process.ExitCode}: {error.Trim()}");
        }

        return output.Trim();
    }

    // "COUNT SIZE" as stat prints block counts: their product.
    private static long Product(string countAndSize)
    {
        var parts = countAndSize.Split(' ');
        return long.Parse(parts[0], CultureInfo.InvariantCulture) * long.Parse(parts[1], CultureInfo.InvariantCulture);
    }
}

using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using TruthDb.Dataflow.Inspection;

namespace TruthDb.Dataflow.Cli.Tests.Support;

/// <summary>A temporary log directory, deleted afterwards, with helpers to fill it through the tool and to damage its files.</summary>
internal sealed class LogDirectory : IDisposable
{
    /// <summary>The smallest segment size: about 59 records of 1000 bytes each.</summary>
    public const string SmallSegments = "64KiB";

    public LogDirectory()
    {
        Root = Path.Combine(Path.GetTempPath(), "truthdb-cli-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Root);
        Dir = Path.Combine(Root, "log");
    }

    /// <summary>A folder for this test (the log lives in <see cref="Dir"/> inside it).</summary>
    public string Root { get; }

    /// <summary>The log directory (not created until something appends).</summary>
    public string Dir { get; }

    /// <summary>Lines of exactly <paramref name="length"/> bytes, numbered from <paramref name="first"/>.</summary>
    public static string Lines(int count, int length = 1000, int first = 1)
    {
        var text = new StringBuilder();
        for (var i = first; i < first + count; i++)
        {
            var head = "record-" + i.ToString("D6", CultureInfo.InvariantCulture) + "-";
            text.Append(head).Append('x', length - head.Length).Append('\n');
        }

        return text.ToString();
    }

    /// <summary>Appends <paramref name="count"/> records of 1000 bytes in one <c>truthdb append</c> run (64 KiB segments).</summary>
    public async Task AppendAsync(int count, int first = 1, string durability = "sync")
    {
        var result = await Truthdb.RunAsync(["append", "--dir", Dir, "--segment-size", SmallSegments, "--durability", durability], Lines(count, first: first), Timeouts.Token());
        Assert.True(result.ExitCode == 0, result.ToString());
    }

    /// <summary>Segment file names, oldest first.</summary>
    public string[] Segments()
    {
        var names = Directory.GetFiles(Dir, "*.wal").Select(Path.GetFileName).Select(n => n!).ToArray();
        Array.Sort(names, StringComparer.Ordinal);
        return names;
    }

    /// <summary>The valid frames of the log, as the inspector lists them.</summary>
    public List<FrameInfo> Frames() => LogInspector.Dump(Dir).Where(f => f.Check == FrameCheck.Valid).ToList();

    /// <summary>The frame holding <paramref name="lsn"/>.</summary>
    public FrameInfo Frame(long lsn) => Frames().Single(f => f.Lsn == lsn);

    /// <summary>Writes <paramref name="bytes"/> into <paramref name="segment"/> at <paramref name="offset"/>.</summary>
    public void Write(string segment, long offset, ReadOnlySpan<byte> bytes)
    {
        using var file = File.OpenHandle(Path.Combine(Dir, segment), FileMode.Open, FileAccess.ReadWrite);
        RandomAccess.Write(file, bytes, offset);
    }

    /// <summary>Reads <paramref name="length"/> bytes of <paramref name="segment"/> at <paramref name="offset"/>.</summary>
    public byte[] Read(string segment, long offset, int length)
    {
        using var file = File.OpenHandle(Path.Combine(Dir, segment), FileMode.Open, FileAccess.Read);
        var bytes = new byte[length];
        RandomAccess.Read(file, bytes, offset);
        return bytes;
    }

    /// <summary>Flips one bit of the byte at <paramref name="offset"/>.</summary>
    public void FlipBit(string segment, long offset)
    {
        var b = Read(segment, offset, 1);
        b[0] ^= 0x10;
        Write(segment, offset, b);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>
    /// Every file of the log directory (<c>prepare-N.tmp</c> aside: a live writer may still be
    /// zero-filling its next segment) with the SHA-256 of its content, in name order: what a verb that
    /// must change nothing is checked against.
    /// </summary>
    public List<(string Name, string Sha256)> FileHashes()
    {
        var files = new List<(string, string)>();
        foreach (var path in Directory.GetFiles(Dir).Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileName(path);
            if (name.StartsWith("prepare-", StringComparison.Ordinal) && name.EndsWith(".tmp", StringComparison.Ordinal))
            {
                continue;
            }

            if (name == "truthdb.lock")
            {
                // A live writer holds its flock, which a read-only open here would contend for; the
                // file is never written: its length says enough.
                files.Add((name, "length " + new FileInfo(path).Length));
                continue;
            }

            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            files.Add((name, Convert.ToHexString(SHA256.HashData(stream))));
        }

        return files;
    }
}

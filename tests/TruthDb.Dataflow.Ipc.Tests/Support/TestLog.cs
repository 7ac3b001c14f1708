using TruthDb.Dataflow.Inspection;

namespace TruthDb.Dataflow.Ipc.Tests.Support;

/// <summary>A temporary folder with a log directory and a short socket path (sun_path holds 107 bytes), deleted afterwards.</summary>
internal sealed class TestLog : IDisposable
{
    public TestLog()
    {
        Root = Path.Combine(Path.GetTempPath(), "tdb-ipc-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(Root);
        Dir = Path.Combine(Root, "log");
        Socket = Path.Combine(Root, "s.sock");
    }

    public string Root { get; }

    public string Dir { get; }

    public string Socket { get; }

    public WalOptions Options(Durability durability = Durability.Sync) => new() { Directory = Dir, Durability = durability, SegmentSize = 1024 * 1024 };

    /// <summary>Asserts that <c>LogInspector.Verify</c> finds the log clean.</summary>
    public void AssertClean()
    {
        var report = LogInspector.Verify(Dir);
        Assert.True(report.IsClean, string.Join("\n", report.Findings));
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
}

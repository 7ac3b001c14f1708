using System.Buffers.Binary;
using TruthDb.Dataflow.Storage;
using TruthDb.Dataflow.Tests.Support;

namespace TruthDb.Dataflow.Tests.Storage;

/// <summary>
/// The inotify watch behind a reader's wake-ups. <see cref="IChangeWatch.Settle"/> makes each check
/// exact: a change made before it is counted when it returns, so no test waits on the thread's timing.
/// </summary>
public sealed class InotifyWatchTests : IDisposable
{
    private const string Watched = "watched.file";
    private static readonly TimeSpan Never = TimeSpan.FromHours(1);
    private readonly TestDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Watch_TheFileWritten_WakesAWaiterWithoutCountingAnEntryChange()
    {
        File.WriteAllBytes(PathOf(Watched), new byte[64]);
        using var watch = Start();
        var next = watch.NextChange();
        using (var file = File.OpenHandle(PathOf(Watched), FileMode.Open, FileAccess.Write))
        {
            RandomAccess.Write(file, new byte[8], 8);
        }

        await next.WaitAsync(Timeouts.Unexpected);
        watch.Settle();
        Assert.Equal(0, watch.EntryChanges);
        Assert.False(watch.IsBroken);
    }

    [Fact]
    public async Task Watch_EntriesOfInterestCreatedRenamedAndDeleted_AreCountedAndOthersAreNot()
    {
        using var watch = Start();
        File.WriteAllBytes(PathOf("other.tmp"), [1]);
        File.Move(PathOf("other.tmp"), PathOf("other2.tmp"));
        File.Delete(PathOf("other2.tmp"));
        watch.Settle();
        Assert.Equal(0, watch.EntryChanges);

        var next = watch.NextChange();
        File.WriteAllBytes(PathOf("prepare.tmp"), [1]);
        File.Move(PathOf("prepare.tmp"), PathOf("a.seg"));
        watch.Settle();
        Assert.Equal(1, watch.EntryChanges);
        await next.WaitAsync(Timeouts.Unexpected);

        File.Delete(PathOf("a.seg"));
        watch.Settle();
        Assert.Equal(2, watch.EntryChanges);
    }

    [Fact]
    public async Task Watch_TheFileReplaced_CountsItAndWatchesTheNewFile()
    {
        File.WriteAllBytes(PathOf(Watched), new byte[64]);
        using var watch = Start();
        File.WriteAllBytes(PathOf("new.tmp"), new byte[64]);
        File.Move(PathOf("new.tmp"), PathOf(Watched), overwrite: true);
        watch.Settle();
        var replaced = watch.EntryChanges;
        Assert.True(replaced >= 1, $"{replaced} entry changes");

        var next = watch.NextChange();
        using (var file = File.OpenHandle(PathOf(Watched), FileMode.Open, FileAccess.Write))
        {
            RandomAccess.Write(file, new byte[8], 16);
        }

        await next.WaitAsync(Timeouts.Unexpected);
        watch.Settle();
        Assert.Equal(replaced, watch.EntryChanges);
    }

    [Fact]
    public void Apply_AQueueOverflow_CountsAnEntryChange()
    {
        using var watch = Start();
        var overflow = new byte[16];
        BinaryPrimitives.WriteInt32LittleEndian(overflow, -1);
        BinaryPrimitives.WriteUInt32LittleEndian(overflow.AsSpan(4), LinuxNative.InQueueOverflow);
        Assert.True(watch.Apply(overflow));
        Assert.Equal(1, watch.EntryChanges);
    }

    [Fact]
    public async Task Watch_TheDirectoryRemoved_IsBroken()
    {
        var directory = Path.Combine(_dir.Path, "log");
        Directory.CreateDirectory(directory);
        using var watch = InotifyWatch.Start(directory, Watched, static _ => false, Never);
        var next = watch.NextChange();
        Directory.Delete(directory);
        await next.WaitAsync(Timeouts.Unexpected);
        watch.Settle();
        Assert.True(watch.IsBroken);
    }

    [Fact]
    public async Task Watch_EveryTick_WakesAWaiter()
    {
        using var watch = InotifyWatch.Start(_dir.Path, Watched, static _ => false, TimeSpan.FromMilliseconds(5));
        while (watch.Ticks < 3)
        {
            await watch.NextChange().WaitAsync(Timeouts.Unexpected);
        }
    }

    [Fact]
    public async Task Dispose_WakesWaitersAndLaterCallsDoNothing()
    {
        var watch = Start();
        var next = watch.NextChange();
        watch.Dispose();
        await next.WaitAsync(Timeouts.Unexpected);
        watch.Settle();
        watch.Dispose();
        Assert.False(watch.IsBroken);
    }

    private InotifyWatch Start() => InotifyWatch.Start(_dir.Path, Watched, static name => name.EndsWith(".seg", StringComparison.Ordinal), Never);

    private string PathOf(string name) => Path.Combine(_dir.Path, name);
}

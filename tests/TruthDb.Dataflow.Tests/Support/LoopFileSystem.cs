using System.Globalization;

namespace TruthDb.Dataflow.Tests.Support;

/// <summary>
/// A real ext4 whose device can fail writeback: a loop device over a sparse file that lives on a small
/// tmpfs (the "spare" space). Blocks of the ext4 that were written once are pages of the tmpfs, and
/// writing them again needs no space; a block written for the first time is a hole of the backing file,
/// and once the tmpfs is full (<see cref="FillSpare"/>) its writeback fails with a real I/O error from
/// the device (the loop device passes the tmpfs's ENOSPC on). Nothing else changes: the ext4 stays
/// mounted read-write, and writeback works again once the space is freed (<see cref="FreeSpare"/>).
/// </summary>
/// <remarks>
/// How it is made, so that only data blocks can fail: <c>mkfs.ext4</c> with 4 KiB blocks writes the
/// journal and the inode tables in full (<c>lazy_journal_init=0</c>, <c>lazy_itable_init=0</c>), and a
/// device of at most 128 MiB has one block group, whose bitmaps mkfs writes too; so journal commits
/// and metadata updates only rewrite blocks the backing file already holds. The ext4 is mounted with
/// <c>errors=continue</c> and <c>data_err=ignore</c> (checked in effect), so a failed data writeback
/// neither makes it read-only nor aborts the journal.
/// One trap (seen on Linux 6.18): a write into the loop device that starts in a block the backing file
/// holds and runs on into holes is taken short by the full tmpfs, and the loop device completes it
/// without an error, so the rest is lost with no error for any fsync. A test must make the blocks that
/// are to fail start their writes: end what it made durable on a 4 KiB boundary.
/// Everything lives under a fresh directory in the temp folder. This needs root (mount, losetup),
/// which the test machines and CI have; a set-up that fails throws naming the reason: these tests
/// never skip.
/// </remarks>
internal sealed class LoopFileSystem : IDisposable
{
    private const string FillName = "fill";
    private const string MountOptions = "errors=continue,data_err=ignore";

    private readonly string _root;
    private readonly string _spare;
    private string? _device;
    private bool _spareMounted;
    private bool _mounted;

    private LoopFileSystem(string root)
    {
        _root = root;
        _spare = Path.Combine(root, "spare");
        MountPoint = Path.Combine(root, "ext4");
    }

    /// <summary>The directory the ext4 is mounted at.</summary>
    public string MountPoint { get; }

    /// <summary>The bytes the tmpfs under the device still has room for.</summary>
    public long SpareBytes => Product(SmallFileSystem.Run("stat", "--file-system", "--format=%a %S", _spare));

    /// <summary>
    /// Mounts an ext4 of <paramref name="deviceBytes"/> bytes on a loop device whose backing file is
    /// sparse on a tmpfs of <paramref name="spareBytes"/> bytes.
    /// </summary>
    public static LoopFileSystem Mount(long spareBytes, long deviceBytes)
    {
        // One block group (32768 blocks of 4 KiB), whose bitmaps mkfs writes.
        ArgumentOutOfRangeException.ThrowIfGreaterThan(deviceBytes, 128L * 1024 * 1024);
        var fileSystem = new LoopFileSystem(Path.Combine(Path.GetTempPath(), "truthdb-loopfs-" + Guid.NewGuid().ToString("N")));
        try
        {
            fileSystem.SetUp(spareBytes, deviceBytes);
        }
        catch (Exception ex)
        {
            try
            {
                fileSystem.Dispose();
            }
            catch (Exception cleanup)
            {
                throw new AggregateException(SetUpFailed(spareBytes, deviceBytes, ex), cleanup);
            }

            throw SetUpFailed(spareBytes, deviceBytes, ex);
        }

        return fileSystem;
    }

    /// <summary>
    /// Writes back everything written into the ext4 so far (syncfs: data, the journal, and the metadata
    /// blocks it committed), then fills the tmpfs to its last byte: from then on the writeback of any
    /// block of the ext4 that was never written fails.
    /// </summary>
    public void FillSpare()
    {
        SmallFileSystem.Run("sync", "--file-system", MountPoint);
        var fill = SpareBytes;
        var chunk = new byte[1024 * 1024];
        Array.Fill(chunk, (byte)0xA5);
        using (var file = new FileStream(Path.Combine(_spare, FillName), FileMode.Append, FileAccess.Write))
        {
            for (long written = 0; written < fill; written += chunk.Length)
            {
                file.Write(chunk, 0, (int)Math.Min(chunk.Length, fill - written));
            }
        }

        if (SpareBytes != 0)
        {
            throw new InvalidOperationException($"Filled the tmpfs under the device, but {SpareBytes} bytes are still free.");
        }
    }

    /// <summary>Removes what <see cref="FillSpare"/> wrote: writeback works again.</summary>
    public void FreeSpare() => File.Delete(Path.Combine(_spare, FillName));

    /// <summary>
    /// Drops the ext4's page cache, as a power loss would: unmounts it (which needs every file in it
    /// closed; a lazy unmount would keep the cache, so a busy file system throws) and mounts it again
    /// from the same loop device. What reads return afterwards is what the device holds.
    /// </summary>
    public void DropCache()
    {
        SmallFileSystem.Run("umount", MountPoint);
        _mounted = false;
        MountExt4();
    }

    /// <summary>Unmounts the ext4, detaches the loop device, unmounts the tmpfs, and removes the directories (lazy unmounts as a fallback).</summary>
    public void Dispose()
    {
        try
        {
            if (_mounted)
            {
                Unmount(MountPoint);
                _mounted = false;
            }
        }
        finally
        {
            try
            {
                if (_device is not null)
                {
                    // A device still in use (after a lazy unmount) is detached by the kernel once it is let go.
                    SmallFileSystem.Run("losetup", "--detach", _device);
                    _device = null;
                }
            }
            finally
            {
                if (_spareMounted)
                {
                    Unmount(_spare);
                    _spareMounted = false;
                }

                // Never while something is still mounted under it: a recursive delete would go into the mount.
                if (!_mounted && !_spareMounted && Directory.Exists(_root))
                {
                    Directory.Delete(_root, recursive: true);
                }
            }
        }
    }

    private void SetUp(long spareBytes, long deviceBytes)
    {
        Directory.CreateDirectory(_spare);
        Directory.CreateDirectory(MountPoint);
        SmallFileSystem.Run("mount", "-t", "tmpfs", "-o", string.Create(CultureInfo.InvariantCulture, $"size={spareBytes},mode=0700"), "tmpfs", _spare);
        _spareMounted = true;

        var backing = Path.Combine(_spare, "device.img");
        using (var file = new FileStream(backing, FileMode.CreateNew))
        {
            file.SetLength(deviceBytes);
        }

        // Buffered IO into the backing file (not direct IO), so the tmpfs's ENOSPC comes back on the write itself.
        _device = SmallFileSystem.Run("losetup", "--find", "--show", "--direct-io=off", backing);
        SmallFileSystem.Run("mkfs.ext4", "-F", "-q", "-b", "4096", "-E", "lazy_itable_init=0,lazy_journal_init=0,nodiscard", _device);
        MountExt4();
    }

    private void MountExt4()
    {
        SmallFileSystem.Run("mount", "-t", "ext4", "-o", MountOptions, _device!, MountPoint);
        _mounted = true;

        // The options the kernel applies, as it lists them (data_err is listed only when it is abort).
        var options = File.ReadAllText(Path.Combine("/proc/fs/ext4", Path.GetFileName(_device!), "options")).Split('\n');
        if (!options.Contains("rw") || !options.Contains("errors=continue") || options.Contains("data_err=abort"))
        {
            throw new InvalidOperationException($"The ext4 on {_device} is not mounted read-write with errors=continue and data_err=ignore: {string.Join(' ', options)}");
        }
    }

    private static InvalidOperationException SetUpFailed(long spareBytes, long deviceBytes, Exception ex) =>
        new($"Could not set up a {deviceBytes}-byte ext4 on a loop device backed by a {spareBytes}-byte tmpfs for a writeback-failure test: {ex.Message} "
            + "These tests need root, a kernel with loop devices, ext4 and tmpfs, and mkfs.ext4 (e2fsprogs) and losetup; they do not skip.", ex);

    private static void Unmount(string path)
    {
        try
        {
            SmallFileSystem.Run("umount", path);
        }
        catch (InvalidOperationException)
        {
            SmallFileSystem.Run("umount", "--lazy", path);
        }
    }

    // "COUNT SIZE" as stat prints block counts: their product.
    private static long Product(string countAndSize)
    {
        var parts = countAndSize.Split(' ');
        return long.Parse(parts[0], CultureInfo.InvariantCulture) * long.Parse(parts[1], CultureInfo.InvariantCulture);
    }
}

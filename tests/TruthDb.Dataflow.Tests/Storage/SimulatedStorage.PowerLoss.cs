namespace TruthDb.Dataflow.Tests.Storage;

/// <content>What a power loss leaves of a model.</content>
internal sealed partial class SimulatedStorage
{
    /// <summary>The unit a torn write lands in, when it tears by sectors.</summary>
    private const int SectorSize = 512;

    /// <summary>What the parts of a torn write that did not land contain.</summary>
    private enum TearFill
    {
        /// <summary>The old (durable) bytes.</summary>
        OldBytes,

        /// <summary>Zeros.</summary>
        Zeros,

        /// <summary>Random bytes.</summary>
        Garbage,
    }

    private sealed partial class Model
    {
        /// <summary>
        /// The model after a power loss: the durable directory plus a prefix of the pending directory
        /// changes, and for each surviving file its durable bytes plus the pending changes
        /// <paramref name="mode"/> lets through. Everything in the result is durable. Does not
        /// change this model; consumes <paramref name="random"/> in a fixed order.
        /// </summary>
        public Model PowerLoss(CrashMode mode, Random random)
        {
            var names = new Dictionary<string, Inode>(_durable, StringComparer.Ordinal);
            var kept = mode switch
            {
                CrashMode.DropUnsynced => 0,
                CrashMode.KeepUnsynced => _pendingDirectory.Count,
                _ => random.Next(_pendingDirectory.Count + 1),
            };
            for (var i = 0; i < kept; i++)
            {
                ApplyDirectoryChange(names, _pendingDirectory[i]);
            }

            var sorted = new string[names.Count];
            names.Keys.CopyTo(sorted, 0);
            Array.Sort(sorted, StringComparer.Ordinal);

            var image = new Model { NextInodeId = NextInodeId };
            foreach (var name in sorted)
            {
                var inode = names[name];
                var survivor = new Inode(inode.Id, name, Survive(inode, mode, random));
                image._current[name] = survivor;
                image._durable[name] = survivor;
                image._byId[inode.Id] = survivor;
            }

            return image;
        }

        private static void ApplyDirectoryChange(Dictionary<string, Inode> names, DirectoryChange change)
        {
            switch (change.Kind)
            {
                case OperationKind.Create:
                    names[change.Name] = change.Inode!;
                    break;
                case OperationKind.Rename:
                    if (names.Remove(change.Name, out var inode))
                    {
                        names[change.NewName!] = inode;
                    }

                    break;
                default:
                    names.Remove(change.Name);
                    break;
            }
        }

        /// <summary>
        /// The bytes of <paramref name="inode"/> that survive: the bytes before its oldest pending
        /// change, then in order the durable changes, never a lost one, and the pending ones as
        /// <paramref name="mode"/> says.
        /// </summary>
        private static Content Survive(Inode inode, CrashMode mode, Random? random)
        {
            var content = inode.Content.Copy();
            var pending = inode.Pending;
            if (pending.Count == 0 || (mode == CrashMode.KeepUnsynced && !pending.Exists(change => change.State == ChangeState.Lost)))
            {
                return content;
            }

            for (var i = pending.Count - 1; i >= 0; i--)
            {
                var change = pending[i];
                if (change.PreImage is { Length: > 0 } preImage)
                {
                    content.Write(change.Offset, preImage);
                }

                content.Truncate(change.OldLength);
            }

            foreach (var change in pending)
            {
                switch (change.State, mode)
                {
                    case (ChangeState.Durable, _) or (ChangeState.Pending, CrashMode.KeepUnsynced):
                        Apply(content, change);
                        break;
                    case (ChangeState.Pending, CrashMode.TearUnsynced):
                        Tear(content, change, random ?? throw new ArgumentNullException(nameof(random), "tearing draws from a random source"));
                        break;
                }
            }

            return content;
        }

        /// <summary>
        /// What the device holds of <paramref name="inode"/>, as a read past the page cache sees it: the
        /// current bytes without its lost writes (such a read writes dirty pages back first).
        /// </summary>
        public static Content DeviceContent(Inode inode) => Survive(inode, CrashMode.KeepUnsynced, random: null);

        private static void Apply(Content content, PendingChange change)
        {
            if (change.Data is { } data)
            {
                content.Write(change.Offset, data);
            }
            else
            {
                content.Extend(change.NewLength);
            }
        }

        private static void Tear(Content content, PendingChange change, Random random)
        {
            if (change.Data is not { } data)
            {
                if (random.Next(2) == 0)
                {
                    content.Extend(change.NewLength);
                }

                return;
            }

            if (change.Direct)
            {
                // A direct write reaches the device as it was issued, in whole sectors: each lands or
                // keeps its old bytes.
                for (var sector = change.Offset; sector < change.Offset + data.Length; sector += SectorSize)
                {
                    Land(content, change, sector, Math.Min(sector + SectorSize, change.Offset + data.Length), random.Next(2) == 0, TearFill.OldBytes, random);
                }

                return;
            }

            switch (random.Next(3))
            {
                case 0:
                    content.Write(change.Offset, data);
                    return;
                case 1:
                    return;
            }

            var fill = (TearFill)random.Next(3);
            var start = change.Offset;
            var end = start + data.Length;
            if (random.Next(2) == 0)
            {
                // A random subset of the (file-aligned) sectors lands.
                while (start < end)
                {
                    var stop = (int)Math.Min(end, ((long)(start / SectorSize) + 1) * SectorSize);
                    Land(content, change, start, stop, random.Next(2) == 0, fill, random);
                    start = stop;
                }
            }
            else
            {
                // A random prefix of the bytes lands.
                var split = start + random.Next(data.Length + 1);
                Land(content, change, start, split, landed: true, fill, random);
                Land(content, change, split, end, landed: false, fill, random);
            }
        }

        /// <summary>Puts the write's bytes in [start, stop) when <paramref name="landed"/>, else the <paramref name="fill"/>.</summary>
        private static void Land(Content content, PendingChange change, int start, int stop, bool landed, TearFill fill, Random random)
        {
            var count = stop - start;
            if (count <= 0)
            {
                return;
            }

            if (landed)
            {
                content.Write(start, change.Data.AsSpan(start - change.Offset, count));
            }
            else if (fill == TearFill.Zeros)
            {
                content.Zero(start, count);
            }
            else if (fill == TearFill.Garbage)
            {
                var garbage = new byte[count];
                random.NextBytes(garbage);
                content.Write(start, garbage);
            }
        }
    }
}

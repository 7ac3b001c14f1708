namespace TruthDb.Dataflow.Tests.Storage;

/// <content>The file system model that both the live storage and the crash replays run.</content>
internal sealed partial class SimulatedStorage
{
    /// <summary>
    /// The directory (current and durable views, plus the directory changes since the last
    /// directory sync) and the inodes. Operations here are already validated: they never fail.
    /// </summary>
    private sealed partial class Model
    {
        private readonly Dictionary<string, Inode> _current = new(StringComparer.Ordinal);
        private readonly Dictionary<string, Inode> _durable = new(StringComparer.Ordinal);
        private readonly List<DirectoryChange> _pendingDirectory = [];
        private readonly Dictionary<int, Inode> _byId = [];

        /// <summary>The id the next created inode gets.</summary>
        public int NextInodeId { get; private set; } = 1;

        public bool TryGet(string name, out Inode inode) => _current.TryGetValue(name, out inode!);

        /// <summary>Any inode created in this model's history, even deleted ones (handles may still write to them).</summary>
        public Inode? FindById(int id) => _byId.GetValueOrDefault(id);

        public string[] ListNames()
        {
            var names = new string[_current.Count];
            _current.Keys.CopyTo(names, 0);
            Array.Sort(names, StringComparer.Ordinal);
            return names;
        }

        public long UsedBytes()
        {
            long used = 0;
            foreach (var inode in _current.Values)
            {
                used += inode.Content.Length;
            }

            return used;
        }

        public Inode Create(string name, int id)
        {
            var inode = new Inode(id, name, new Content());
            _current[name] = inode;
            _byId[id] = inode;
            NextInodeId = Math.Max(NextInodeId, id + 1);
            _pendingDirectory.Add(new DirectoryChange(OperationKind.Create, name, null, inode));
            return inode;
        }

        public void Rename(string name, string newName)
        {
            if (name == newName || !_current.Remove(name, out var inode))
            {
                return;
            }

            _current[newName] = inode;
            inode.Name = newName;
            _pendingDirectory.Add(new DirectoryChange(OperationKind.Rename, name, newName, null));
        }

        public void Delete(string name)
        {
            if (_current.Remove(name))
            {
                _pendingDirectory.Add(new DirectoryChange(OperationKind.Delete, name, null, null));
            }
        }

        public void SyncDirectory()
        {
            _durable.Clear();
            foreach (var (name, inode) in _current)
            {
                _durable[name] = inode;
            }

            _pendingDirectory.Clear();
        }

        public static void Write(Inode inode, int offset, byte[] data, bool direct = false)
        {
            if (data.Length == 0)
            {
                return;
            }

            var content = inode.Content;
            var oldLength = content.Length;
            var preImage = content.Slice(offset, data.Length);
            content.Write(offset, data);
            inode.Pending.Add(new PendingChange(offset, data, preImage, oldLength, content.Length, Direct: direct));
        }

        public static void Allocate(Inode inode, int length)
        {
            var oldLength = inode.Content.Length;
            if (length > oldLength)
            {
                inode.Content.Extend(length);
                inode.Pending.Add(new PendingChange(0, null, null, oldLength, length));
            }
        }

        /// <summary>A sync: every pending change becomes durable (a lost write stays lost).</summary>
        public static void Sync(Inode inode)
        {
            var pending = inode.Pending;
            if (!pending.Exists(change => change.State == ChangeState.Lost))
            {
                pending.Clear();
                return;
            }

            for (var i = 0; i < pending.Count; i++)
            {
                if (pending[i].State == ChangeState.Pending)
                {
                    pending[i] = pending[i] with { State = ChangeState.Durable };
                }
            }
        }

        /// <summary>
        /// A sync that failed the way Linux fails one after a writeback error: the pending writes are
        /// lost (their pages are clean again, with the new bytes in them), length changes stay pending.
        /// </summary>
        public static void LoseWrites(Inode inode)
        {
            var pending = inode.Pending;
            for (var i = 0; i < pending.Count; i++)
            {
                if (pending[i] is { State: ChangeState.Pending, Data: not null })
                {
                    pending[i] = pending[i] with { State = ChangeState.Lost };
                }
            }
        }

        /// <summary>Flips a bit in the current bytes and in every pending pre-image holding that byte (so in the durable bytes too).</summary>
        public static void FlipBit(Inode inode, int offset, int bit)
        {
            inode.Content.FlipBit(offset, bit);
            var pending = inode.Pending;
            for (var i = 0; i < pending.Count; i++)
            {
                var change = pending[i];
                if (change.PreImage is { } preImage && offset >= change.Offset && offset < change.Offset + preImage.Length)
                {
                    // Pre-images are shared with clones: flip a private copy.
                    var flipped = (byte[])preImage.Clone();
                    flipped[offset - change.Offset] ^= (byte)(1 << bit);
                    pending[i] = change with { PreImage = flipped };
                }
            }
        }

        /// <summary>A deep copy (bytes copy on write) of everything reachable from the directory views.</summary>
        public Model Clone()
        {
            var clone = new Model { NextInodeId = NextInodeId };
            foreach (var (name, inode) in _current)
            {
                clone._current[name] = clone.Adopt(inode);
            }

            foreach (var (name, inode) in _durable)
            {
                clone._durable[name] = clone.Adopt(inode);
            }

            foreach (var change in _pendingDirectory)
            {
                clone._pendingDirectory.Add(change.Inode is null ? change : change with { Inode = clone.Adopt(change.Inode) });
            }

            return clone;
        }

        /// <summary>This model's copy of another model's inode, made on first use.</summary>
        private Inode Adopt(Inode inode)
        {
            if (!_byId.TryGetValue(inode.Id, out var copy))
            {
                copy = new Inode(inode.Id, inode.Name, inode.Content.Copy());
                copy.Pending.AddRange(inode.Pending);
                _byId[inode.Id] = copy;
            }

            return copy;
        }

        /// <summary>A create (with its inode), rename or delete not yet made durable by a directory sync.</summary>
        private readonly record struct DirectoryChange(OperationKind Kind, string Name, string? NewName, Inode? Inode);
    }
}

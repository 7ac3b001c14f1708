namespace TruthDb.Dataflow.Tests.Storage;

/// <content>Inodes and their bytes.</content>
internal sealed partial class SimulatedStorage
{
    /// <summary>
    /// A file: its current bytes, and the writes and length changes since its last sync, each with
    /// what it replaced, so the durable bytes are the current ones with the pending changes undone.
    /// </summary>
    private sealed class Inode(int id, string name, Content content)
    {
        /// <summary>A number unique within one storage's history (kept by replays and images).</summary>
        public int Id { get; } = id;

        /// <summary>The file's name in the current directory, or its last one once deleted.</summary>
        public string Name { get; set; } = name;

        /// <summary>The current bytes.</summary>
        public Content Content { get; } = content;

        /// <summary>The changes since the last sync, oldest first.</summary>
        public List<PendingChange> Pending { get; } = [];
    }

    /// <summary>
    /// An unsynced change of an inode: a write (<see cref="Data"/> set, <see cref="PreImage"/> holding
    /// the bytes it overwrote below <see cref="OldLength"/>) or a length extension. Normally a sync
    /// drops every pending change (it became durable); after a write was lost (<see cref="ChangeState.Lost"/>)
    /// the list is kept, and the changes a later sync covered are marked <see cref="ChangeState.Durable"/>.
    /// </summary>
    /// <remarks>A <see cref="Direct"/> write went past the cache (<see cref="TruthDb.Dataflow.Storage.IStorageFile.TryWriteDevice"/>): a power loss lands each of its sectors whole or not at all.</remarks>
    private readonly record struct PendingChange(int Offset, byte[]? Data, byte[]? PreImage, int OldLength, int NewLength, ChangeState State = ChangeState.Pending, bool Direct = false);

    /// <summary>Where an inode's change stands.</summary>
    private enum ChangeState
    {
        /// <summary>Not synced yet: a power loss keeps, drops or tears it (<see cref="CrashMode"/>).</summary>
        Pending,

        /// <summary>
        /// A write whose sync failed in a way that cleans the cached pages (Linux after a writeback
        /// error): reads still see it, no later sync writes it, and it never reaches the device.
        /// </summary>
        Lost,

        /// <summary>Synced after a lost write (kept only so that the list can still be undone in order).</summary>
        Durable,
    }

    /// <summary>
    /// A growable byte buffer whose bytes past <see cref="Length"/> are always zero. Copies share the
    /// array until one of them writes (copy on write), so cloning a storage is cheap.
    /// </summary>
    private sealed class Content
    {
        private const int MinimumCapacity = 4096;

        private byte[] _data;
        private bool _shared;

        public Content()
        {
            _data = [];
        }

        private Content(byte[] data, int length)
        {
            _data = data;
            Length = length;
            _shared = true;
        }

        public int Length { get; private set; }

        public ReadOnlySpan<byte> Span => _data.AsSpan(0, Length);

        /// <summary>A copy that shares the bytes until either side writes.</summary>
        public Content Copy()
        {
            _shared = true;
            return new Content(_data, Length);
        }

        public int Read(long offset, Span<byte> buffer)
        {
            if (offset >= Length)
            {
                return 0;
            }

            var count = (int)Math.Min(buffer.Length, Length - offset);
            _data.AsSpan((int)offset, count).CopyTo(buffer);
            return count;
        }

        /// <summary>A copy of the bytes in [offset, offset + count) that lie below <see cref="Length"/>.</summary>
        public byte[] Slice(int offset, int count)
        {
            var end = Math.Min(offset + count, Length);
            return end <= offset ? [] : _data.AsSpan(offset, end - offset).ToArray();
        }

        /// <summary>Writes <paramref name="data"/> at <paramref name="offset"/>, extending (zero-filled gap) if needed.</summary>
        public void Write(int offset, ReadOnlySpan<byte> data)
        {
            var end = offset + data.Length;
            Reserve(end);
            data.CopyTo(_data.AsSpan(offset));
            Length = Math.Max(Length, end);
        }

        /// <summary>Zeroes [offset, offset + count), extending if needed.</summary>
        public void Zero(int offset, int count)
        {
            var end = offset + count;
            Reserve(end);
            _data.AsSpan(offset, count).Clear();
            Length = Math.Max(Length, end);
        }

        /// <summary>Extends to <paramref name="length"/> with zeros; never shrinks.</summary>
        public void Extend(int length)
        {
            if (length > Length)
            {
                // The bytes past Length are already zero, so a large enough array needs no write.
                if (length > _data.Length)
                {
                    Reserve(length);
                }

                Length = length;
            }
        }

        /// <summary>Shrinks to <paramref name="length"/>, zeroing the cut-off bytes; never extends.</summary>
        public void Truncate(int length)
        {
            if (length < Length)
            {
                Reserve(Length);
                _data.AsSpan(length, Length - length).Clear();
                Length = length;
            }
        }

        public void FlipBit(int offset, int bit)
        {
            Reserve(Length);
            _data[offset] ^= (byte)(1 << bit);
        }

        /// <summary>Makes the array private to this copy and at least <paramref name="length"/> long.</summary>
        private void Reserve(int length)
        {
            if (!_shared && length <= _data.Length)
            {
                return;
            }

            var capacity = _data.Length;
            if (length > capacity)
            {
                capacity = (int)Math.Min(Array.MaxLength, Math.Max(length, Math.Max(MinimumCapacity, 2L * capacity)));
            }

            var data = new byte[capacity];
            _data.AsSpan(0, Length).CopyTo(data);
            _data = data;
            _shared = false;
        }
    }
}

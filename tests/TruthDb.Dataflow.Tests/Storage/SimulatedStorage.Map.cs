using System.Buffers;
using TruthDb.Dataflow.Storage;

namespace TruthDb.Dataflow.Tests.Storage;

internal sealed partial class SimulatedStorage
{
    /// <inheritdoc/>
    public IMappedFile MapReadOnly(string name)
    {
        ValidateName(name);
        lock (_gate)
        {
            var inode = GetExisting(name);
            var failure = TakeFault(OperationKind.Open, name);
            if (failure is not null)
            {
                throw failure;
            }

            return new SimulatedMap(inode);
        }
    }

    /// <inheritdoc/>
    /// <remarks>No other process can read a simulated directory: no shared file (so no watermark mirror).</remarks>
    public ISharedFile? CreateSharedFile(string name, ReadOnlySpan<byte> contents) => null;

    /// <inheritdoc/>
    /// <remarks>No other process can change a simulated directory: nothing to watch.</remarks>
    public IChangeWatch? WatchChanges(string fileName, Func<string, bool> isEntryOfInterest, TimeSpan tick) => null;

    /// <summary>
    /// A live view of a file's current bytes, like a shared mapping of the page cache: what is written
    /// later shows through. Not traced (mapping changes nothing on disk).
    /// </summary>
    private sealed class SimulatedMap(Inode inode) : MemoryManager<byte>, IMappedFile
    {
        private readonly int _length = inode.Content.Length;

        public ReadOnlyMemory<byte> Bytes => CreateMemory(_length);

        public override Span<byte> GetSpan()
        {
            var current = inode.Content.Span;
            if (current.Length < _length)
            {
                throw new InvalidOperationException("the simulated file shrank under a mapping");
            }

            // Writable only to satisfy MemoryManager; the engine exposes it as ReadOnlyMemory.
            return System.Runtime.InteropServices.MemoryMarshal.CreateSpan(ref System.Runtime.InteropServices.MemoryMarshal.GetReference(current), _length);
        }

        public override MemoryHandle Pin(int elementIndex = 0) => throw new NotSupportedException("simulated mappings cannot be pinned");

        public override void Unpin()
        {
        }

        protected override void Dispose(bool disposing)
        {
        }
    }
}

using TruthDb.Dataflow.Storage;

namespace TruthDb.Dataflow.Tests.Storage;

/// <content>File handles: every call takes the storage lock and works on the handle's inode.</content>
internal sealed partial class SimulatedStorage
{
    /// <summary>EFBIG on Linux.</summary>
    private const int FileTooLargeErrno = 27;

    /// <summary>The simulation keeps a file in one array.</summary>
    private static readonly long MaxFileLength = Array.MaxLength;

    private int ReadFile(SimulatedFile file, long offset, Span<byte> buffer)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        lock (_gate)
        {
            file.ThrowIfDisposed();
            var failure = TakeFault(OperationKind.Read, file.Inode.Name);
            if (failure is not null)
            {
                throw failure;
            }

            return file.Inode.Content.Read(offset, buffer);
        }
    }

    private void WriteFile(SimulatedFile file, long offset, ReadOnlySpan<byte> data) => WriteFile(file, offset, data, direct: false);

    private bool WriteDevice(SimulatedFile file, long offset, ReadOnlySpan<byte> data)
    {
        if (offset % IStorageFile.DirectBlockSize != 0 || data.Length % IStorageFile.DirectBlockSize != 0)
        {
            throw new ArgumentException($"A direct write must start and end on a multiple of {IStorageFile.DirectBlockSize} bytes (offset {offset}, {data.Length} bytes).", nameof(data));
        }

        if (!DirectIo)
        {
            return false;
        }

        WriteFile(file, offset, data, direct: true);
        return true;
    }

    private void WriteFile(SimulatedFile file, long offset, ReadOnlySpan<byte> data, bool direct)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        var bytes = data.ToArray();
        lock (_gate)
        {
            var inode = ThrowIfNotWritable(file);
            var end = offset + bytes.Length;
            ThrowIfTooLarge(inode, end);
            var growth = bytes.Length == 0 ? 0 : Math.Max(0, end - inode.Content.Length);
            Record(OperationKind.Write, inode.Name, inode.Id, null, offset, bytes.Length, bytes, growth, direct);
            Model.Write(inode, (int)offset, bytes, direct);
        }
    }

    private void AllocateFile(SimulatedFile file, long length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        lock (_gate)
        {
            var inode = ThrowIfNotWritable(file);
            ThrowIfTooLarge(inode, length);
            var growth = Math.Max(0, length - inode.Content.Length);
            Record(OperationKind.Allocate, inode.Name, inode.Id, null, 0, length, null, growth);
            Model.Allocate(inode, (int)length);
        }
    }

    private bool ReadDevice(SimulatedFile file, long offset, Span<byte> buffer, out int read)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        read = 0;
        lock (_gate)
        {
            file.ThrowIfDisposed();
            if (!_directIo)
            {
                return false;
            }

            var failure = TakeFault(OperationKind.Read, file.Inode.Name);
            if (failure is not null)
            {
                throw failure;
            }

            read = Model.DeviceContent(file.Inode).Read(offset, buffer);
            return true;
        }
    }

    private void SyncFile(SimulatedFile file, OperationKind kind)
    {
        lock (_gate)
        {
            file.ThrowIfDisposed();
            var inode = file.Inode;
            Record(kind, inode.Name, inode.Id, null, 0, 0, null, 0);
            Model.Sync(inode);
        }
    }

    private long FileLength(SimulatedFile file)
    {
        lock (_gate)
        {
            file.ThrowIfDisposed();
            return file.Inode.Content.Length;
        }
    }

    private void CloseFile(SimulatedFile file)
    {
        lock (_gate)
        {
            if (file.MarkDisposed())
            {
                _openFiles--;
            }
        }
    }

    private static Inode ThrowIfNotWritable(SimulatedFile file)
    {
        file.ThrowIfDisposed();
        if (!file.Writable)
        {
            throw new UnauthorizedAccessException($"The file '{file.Name}' was opened read-only.");
        }

        return file.Inode;
    }

    private void ThrowIfTooLarge(Inode inode, long end)
    {
        if (end > MaxFileLength)
        {
            throw new IOException($"File too large ('{inode.Name}' in '{DirectoryPath}').", FileTooLargeErrno);
        }
    }

    /// <summary>An open file: a handle on an inode, named by the name it was opened with.</summary>
    private sealed class SimulatedFile(SimulatedStorage owner, Inode inode, string name, bool writable) : IStorageFile
    {
        private bool _disposed;

        public string Name { get; } = name;

        public Inode Inode { get; } = inode;

        public bool Writable { get; } = writable;

        public long Length => owner.FileLength(this);

        public int Read(long offset, Span<byte> buffer) => owner.ReadFile(this, offset, buffer);

        public void Write(long offset, ReadOnlySpan<byte> data) => owner.WriteFile(this, offset, data);

        public void Allocate(long length) => owner.AllocateFile(this, length);

        // The simulation has no page cache: warming it changes nothing (and is not traced, like a read).
        public bool WarmCache(long offset, long length) => false;

        public bool TryReadDevice(long offset, Span<byte> buffer, out int read) => owner.ReadDevice(this, offset, buffer, out read);

        public bool TryWriteDevice(long offset, ReadOnlySpan<byte> data) => owner.WriteDevice(this, offset, data);

        public void DataSync() => owner.SyncFile(this, OperationKind.DataSync);

        public void FullSync() => owner.SyncFile(this, OperationKind.FullSync);

        public void Dispose() => owner.CloseFile(this);

        /// <summary>Marks the handle closed; true the first time. Call under the storage lock.</summary>
        public bool MarkDisposed()
        {
            var first = !_disposed;
            _disposed = true;
            return first;
        }

        /// <summary>Throws when the handle is closed. Call under the storage lock.</summary>
        public void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);
    }
}

namespace TruthDb.Dataflow.Storage;

/// <summary>
/// Small files replaced atomically: written to <c>NAME.new</c>, synced, renamed over <c>NAME</c>,
/// directory synced. A crash leaves either the old content or the new one (and maybe a <c>.new</c>
/// file, which <see cref="IsLeftover"/> recognizes and recovery deletes, except a cursor's: a reader in
/// another process may be writing it, and its next commit replaces it).
/// </summary>
internal static class AtomicFile
{
    private const string NewExtension = ".new";

    /// <summary>Replaces <paramref name="name"/> with <paramref name="content"/>, durably.</summary>
    public static void Write(IWalStorage storage, string name, ReadOnlySpan<byte> content)
    {
        var temporary = name + NewExtension;
        storage.Delete(temporary);
        using (var file = storage.Create(temporary))
        {
            file.Write(0, content);
            file.DataSync();
        }

        storage.Rename(temporary, name);
        storage.SyncDirectory();
    }

    /// <summary>The file's content, or null when it does not exist.</summary>
    public static byte[]? Read(IWalStorage storage, string name)
    {
        IStorageFile file;
        try
        {
            file = storage.Open(name, writable: false);
        }
        catch (FileNotFoundException)
        {
            return null;
        }

        using (file)
        {
            var bytes = new byte[file.Length];
            var read = file.ReadFully(0, bytes);
            return read == bytes.Length ? bytes : bytes[..read];
        }
    }

    /// <summary>True for the temporary file of an interrupted <see cref="Write"/>.</summary>
    public static bool IsLeftover(string name) => name.EndsWith(NewExtension, StringComparison.Ordinal);
}

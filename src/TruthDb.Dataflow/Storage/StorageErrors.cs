namespace TruthDb.Dataflow.Storage;

/// <summary>Classifies the <see cref="IOException"/>s that storage operations throw.</summary>
internal static class StorageErrors
{
    /// <summary>ENOSPC on Linux.</summary>
    public const int NoSpaceErrno = 28;

    /// <summary>EIO on Linux.</summary>
    public const int IoErrno = 5;

    private const int WindowsDiskFull = unchecked((int)0x80070070);
    private const int WindowsHandleDiskFull = unchecked((int)0x80070027);

    /// <summary>True when the exception says the disk (or quota) is full.</summary>
    public static bool IsDiskFull(Exception exception) =>
        exception is IOException io && io.HResult is NoSpaceErrno or WindowsDiskFull or WindowsHandleDiskFull;

    /// <summary>An <see cref="IOException"/> carrying ENOSPC, as the real file system reports it.</summary>
    public static IOException DiskFull(string what) => new($"No space left on device ({what}).", NoSpaceErrno);

    /// <summary>An <see cref="IOException"/> carrying EIO, as the real file system reports it.</summary>
    public static IOException InputOutput(string what) => new($"Input/output error ({what}).", IoErrno);
}

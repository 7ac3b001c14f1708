namespace TruthDb.Dataflow;

/// <summary>When an append is acknowledged. More modes may be added later; none is ever removed.</summary>
public enum Durability
{
    /// <summary>
    /// The default: an append is acknowledged only after the fdatasync of the batch that holds it
    /// returned (group commit). An acknowledged record survives a process crash and a power loss.
    /// </summary>
    Sync = 0,

    /// <summary>
    /// An append is acknowledged once its batch's write returned (the data is in the OS page cache):
    /// it survives a process crash, and a power loss only once the background sync that runs every
    /// <see cref="WalOptions.FlushInterval"/> has covered it (see <see cref="Wal.DurableLsn"/>).
    /// </summary>
    Written = 1,
}

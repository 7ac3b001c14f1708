namespace TruthDb.Dataflow.Etl;

/// <summary>A record copied out of the log, safe to keep (unlike <see cref="WalRecord"/>, whose payload is a view).</summary>
/// <param name="Lsn">The record's LSN.</param>
/// <param name="Payload">A copy of the record's bytes.</param>
public sealed record WalEntry(long Lsn, byte[] Payload);

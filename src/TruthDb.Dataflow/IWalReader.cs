namespace TruthDb.Dataflow;

/// <summary>
/// Reading a log and keeping durable named cursors in it: the contract the writing <see cref="Wal"/>
/// (in the writer's process) and a <see cref="WalReader"/> (in any other process, without the writer's
/// lock) both fulfil, so that a consumer — a replicator, a tool, an ETL job — is written once for
/// either. Both implement it with the same code; they differ in where the watermarks come from.
/// </summary>
public interface IWalReader
{
    /// <summary>The log's identity: random, made when the log was created, carried by every segment (<see cref="Wal.LogId"/>).</summary>
    Guid LogId { get; }

    /// <summary>The LSN of the last record whose write returned (survives a process crash); 0 when none.</summary>
    long WrittenLsn { get; }

    /// <summary>The LSN of the last record covered by a completed fdatasync (survives a power loss); 0 when none.</summary>
    long DurableLsn { get; }

    /// <summary>The LSN of the first record still in the log (retention drops whole segments below it); 0 while the log holds no record.</summary>
    long FirstLsn { get; }

    /// <summary>
    /// The log's segments, oldest first (the last one is being written), as the log knows them now, up
    /// to <see cref="WrittenLsn"/> as of the call: from its list of segments and their headers, without
    /// reading a segment's frames or trailer (<see cref="WalSegment"/>; a <see cref="WalReader"/> lists
    /// the directory again for it).
    /// </summary>
    /// <exception cref="WalCorruptedException">A segment's header cannot be read (a <see cref="WalReader"/>;
    /// the writer's log refuses to open with one); it names the segment.</exception>
    IReadOnlyList<WalSegment> GetSegments();

    /// <summary>Every durable cursor and the LSN it committed (in any process), ordered by name (ordinal), read from the cursor files now.</summary>
    /// <exception cref="WalCorruptedException">A cursor file is damaged (the message names it); no cursor is left out.</exception>
    IReadOnlyDictionary<string, long> Cursors { get; }

    /// <summary>
    /// The records with LSN ≥ <paramref name="fromLsn"/> (0: from the first record still in the log), in
    /// LSN order, up to the watermark <see cref="ReadOptions.Watermark"/> picks as it was when the read
    /// started; with <see cref="ReadOptions.Follow"/>, waiting for new records until <paramref name="ct"/>
    /// is cancelled or the log (or reader) is disposed. Each <see cref="WalRecord.Payload"/> points into
    /// a read-only mapping and is valid until the enumerator moves on.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="fromLsn"/> is negative, or retention removed it and
    /// <see cref="ReadOptions.StartAtFirstAvailable"/> is not set.</exception>
    /// <exception cref="WalCorruptedException">A record the read reaches is damaged (names segment and offset).</exception>
    IAsyncEnumerable<WalRecord> ReadAsync(long fromLsn, ReadOptions? options = null, CancellationToken ct = default);

    /// <summary>Reads from just after cursor <paramref name="name"/>'s committed LSN (from the first record when it has none), like <see cref="ReadAsync"/>.</summary>
    /// <exception cref="ArgumentException">The name is not a valid cursor name.</exception>
    IAsyncEnumerable<WalRecord> ReadFromCursorAsync(string name, ReadOptions? options = null, CancellationToken ct = default);

    /// <summary>The LSN cursor <paramref name="name"/> committed (in any process); 0 when it has none yet.</summary>
    /// <exception cref="ArgumentException">The name is not a valid cursor name.</exception>
    /// <exception cref="WalCorruptedException">The cursor's file is damaged.</exception>
    long GetCursor(string name);

    /// <summary>
    /// Durably records that consumer <paramref name="name"/> has processed every record up to
    /// <paramref name="lsn"/> (temporary file, sync, rename, directory sync): the writer's retention keeps
    /// the records after it. One consumer owns a cursor name.
    /// </summary>
    /// <exception cref="ArgumentException">The name is not a valid cursor name (1 to 100 of A-Z a-z 0-9 . _ -).</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="lsn"/> is negative or beyond <see cref="WrittenLsn"/>.</exception>
    ValueTask CommitCursorAsync(string name, long lsn, CancellationToken ct = default);
}

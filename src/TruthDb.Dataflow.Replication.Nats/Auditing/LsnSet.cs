namespace TruthDb.Dataflow.Replication.Nats.Auditing;

/// <summary>The LSNs seen so far, as a bitmap that grows from the first one added (an audit adds them mostly in order).</summary>
internal sealed class LsnSet
{
    private ulong[] _words = new ulong[1024];
    private long _base = -1;

    /// <summary>Adds <paramref name="lsn"/>; false when it was there already.</summary>
    public bool Add(long lsn)
    {
        if (_base < 0)
        {
            _base = lsn & ~63L;
        }

        if (lsn < _base)
        {
            // Below the first LSN seen: grow downwards.
            var shift = (int)((_base - (lsn & ~63L)) / 64);
            var grown = new ulong[_words.Length + shift];
            Array.Copy(_words, 0, grown, shift, _words.Length);
            _words = grown;
            _base = lsn & ~63L;
        }

        var index = (lsn - _base) / 64;
        if (index >= _words.Length)
        {
            Array.Resize(ref _words, (int)Math.Max(index + 1, _words.Length * 2L));
        }

        var bit = 1UL << (int)((lsn - _base) % 64);
        var had = (_words[index] & bit) != 0;
        _words[index] |= bit;
        return !had;
    }
}

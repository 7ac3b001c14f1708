namespace TruthDb.Dataflow.Storage;

/// <summary>Helpers over <see cref="IStorageFile"/>.</summary>
internal static class StorageFileExtensions
{
    /// <summary>Reads until <paramref name="destination"/> is full or the file ends; returns the count read.</summary>
    public static int ReadFully(this IStorageFile file, long offset, Span<byte> destination)
    {
        var total = 0;
        while (total < destination.Length)
        {
            var n = file.Read(offset + total, destination[total..]);
            if (n == 0)
            {
                break;
            }

            total += n;
        }

        return total;
    }
}

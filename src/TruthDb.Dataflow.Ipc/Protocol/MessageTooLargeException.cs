namespace TruthDb.Dataflow.Ipc.Protocol;

/// <summary>A message's length prefix exceeds the maximum message size (nothing was allocated for it).</summary>
internal sealed class MessageTooLargeException : Exception
{
    public MessageTooLargeException()
    {
    }

    public MessageTooLargeException(string message)
        : base(message)
    {
    }

    public MessageTooLargeException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public MessageTooLargeException(long length, int max)
        : base($"A message of {length} bytes exceeds the maximum message size of {max} bytes.")
    {
    }
}

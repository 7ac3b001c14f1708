namespace TruthDb.Dataflow.Ipc.Protocol;

/// <summary>A message's length prefix exceeds the maximum message size (nothing was allocated for it).</summary>
internal sealed class FrameTooLargeException : Exception
{
    public FrameTooLargeException()
    {
    }

    public FrameTooLargeException(string message)
        : base(message)
    {
    }

    public FrameTooLargeException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public FrameTooLargeException(long length, int max)
        : base($"A message of {length} bytes exceeds the maximum message size of {max} bytes.")
    {
    }
}

using System.Net.Sockets;

namespace TruthDb.Dataflow.Ipc;

/// <summary>
/// Binding a Unix domain socket whose file has the wanted permissions from the first moment: the socket
/// is bound inside a fresh owner-only directory next to the target, its mode set, and then renamed into
/// place, so nobody can connect through a window of default permissions.
/// </summary>
internal static class UnixSocketListener
{
    // sockaddr_un.sun_path holds 108 bytes including the terminating NUL.
    private const int MaxPathBytes = 107;

    public static Socket Bind(string path, UnixFileMode mode)
    {
        var full = Path.GetFullPath(path);
        var parent = Path.GetDirectoryName(full);
        if (parent is null || !Directory.Exists(parent))
        {
            throw new DirectoryNotFoundException($"The directory of the socket path '{full}' does not exist.");
        }

        RemoveStale(full);
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            var staging = Path.Combine(parent, "." + Path.GetFileName(full) + "." + Guid.NewGuid().ToString("N")[..8]);
            var staged = Path.Combine(staging, "s");
            if (OperatingSystem.IsWindows() || System.Text.Encoding.UTF8.GetByteCount(staged) > MaxPathBytes)
            {
                // No room for the staging path: bind in place and narrow the mode at once.
                socket.Bind(new UnixDomainSocketEndPoint(full));
                if (!OperatingSystem.IsWindows())
                {
                    File.SetUnixFileMode(full, mode);
                }
            }
            else
            {
                if (!OperatingSystem.IsWindows())
                {
                    Directory.CreateDirectory(staging, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
                }

                try
                {
                    socket.Bind(new UnixDomainSocketEndPoint(staged));
                    if (!OperatingSystem.IsWindows())
                    {
                        File.SetUnixFileMode(staged, mode);
                    }

                    File.Move(staged, full, overwrite: false);
                }
                finally
                {
                    Directory.Delete(staging, recursive: true);
                }
            }

            socket.Listen(512);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public static Socket Connect(string path)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Connect(new UnixDomainSocketEndPoint(Path.GetFullPath(path)));
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    // A socket file left by a server that is gone is replaced; a live server's, or another file, is not.
    private static void RemoveStale(string full)
    {
        if (!File.Exists(full))
        {
            return;
        }

        try
        {
            using var probe = Connect(full);
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionRefused)
        {
            if (new FileInfo(full).Length == 0)
            {
                File.Delete(full);
                return;
            }

            throw new IOException($"'{full}' exists and is not a socket; choose another path.", ex);
        }

        throw new IOException($"Another server is listening on '{full}'.");
    }
}

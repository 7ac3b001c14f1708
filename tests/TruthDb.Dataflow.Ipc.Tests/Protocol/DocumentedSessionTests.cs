using System.Net.Sockets;
using System.Text;
using TruthDb.Dataflow.Ipc.Tests.Support;

namespace TruthDb.Dataflow.Ipc.Tests.Protocol;

/// <summary>
/// The session of docs/ipc-protocol.md ("A session, byte by byte") played against a real server on a
/// bare socket: the client's bytes exactly as the page gives them, and the server's answers compared
/// byte for byte with the page.
/// </summary>
public sealed class DocumentedSessionTests
{
    [Fact]
    public async Task TheSessionOfThePage_ByteForByte()
    {
        await using var server = await InProcessServer.StartAsync();
        using var socket = RawConnection.ConnectSocket(server.Socket);

        // Offer, channel 1, source 1 (mine), payload bin 22 = ["truthdb.control", 1048576]
        await SendAsync(socket, "94 00 01 01 c4 16 92 af 74 72 75 74 68 64 62 2e 63 6f 6e 74 72 6f 6c ce 00 10 00 00");

        // OfferAccepted, channel 1, source -1 (yours), payload bin 6 = [1024000]
        Assert.Equal(Hex("94 01 01 ff c4 06 91 ce 00 0f a0 00"), await ReceiveAsync(socket, 12));

        // Content, channel 1, source 1, 13 bytes: the message Hello [1, 1, [1, nil, "py"]]
        await SendAsync(socket, "94 02 01 01 c4 0d 00 00 00 09 93 01 01 93 01 c0 a2 70 79");

        // Content, channel 1, source -1, 64 bytes: HelloReply [64, 1, [1, "truthdb", logId, …]]; the
        // page stops at the log id: the rest is maxMessageSize (4 MiB), the written, durable and first
        // LSNs of the empty log and readOnly false.
        var reply = await ReceiveAsync(socket, 6 + 64);
        var expected = Hex("94 02 01 ff c4 40 00 00 00 3c 93 40 01 98 01 a7 74 72 75 74 68 64 62 d9 24")
            .Concat(Encoding.ASCII.GetBytes(server.Wal.LogId.ToString("D")))
            .Concat(Hex("ce 00 40 00 00 00 00 00 c2"))
            .ToArray();
        Assert.Equal(Convert.ToHexString(expected), Convert.ToHexString(reply));

        // ContentProcessed, channel 1, source 1 (mine): [64]; then a Ping [8, 2, []] on the same
        // channel is answered with Pong [70, 2, []]: the server took every frame above as the page says.
        await SendAsync(socket, "94 05 01 01 c4 02 91 40");
        await SendAsync(socket, "94 02 01 01 c4 08 00 00 00 04 93 08 02 90");
        Assert.Equal(Hex("94 02 01 ff c4 08 00 00 00 04 93 46 02 90"), await ReceiveAsync(socket, 14));
    }

    private static byte[] Hex(string spaced) => Convert.FromHexString(spaced.Replace(" ", string.Empty, StringComparison.Ordinal));

    private static async Task SendAsync(Socket socket, string spaced) => await socket.SendAsync(Hex(spaced), SocketFlags.None, Timeouts.Token());

    private static async Task<byte[]> ReceiveAsync(Socket socket, int count)
    {
        var bytes = new byte[count];
        var read = 0;
        while (read < count)
        {
            int n;
            try
            {
                n = await socket.ReceiveAsync(bytes.AsMemory(read), SocketFlags.None, Timeouts.Token());
            }
            catch (OperationCanceledException)
            {
                Assert.Fail($"the server sent {read} of {count} bytes in time: {Convert.ToHexString(bytes, 0, read)}");
                throw;
            }

            Assert.True(n > 0, $"the server closed the connection after {read} of {count} bytes: {Convert.ToHexString(bytes, 0, read)}");
            read += n;
        }

        return bytes;
    }
}

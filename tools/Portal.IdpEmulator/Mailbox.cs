using System.Net;
using System.Net.Sockets;
using System.Text;
using MimeKit;

namespace Portal.IdpEmulator;

/// <summary>One message the emulator's mail sink received, as the mailbox page and the tests read it.</summary>
public sealed record ReceivedMail(DateTimeOffset ReceivedAt, string From, IReadOnlyList<string> To, string Subject, string TextBody);

/// <summary>The messages the mail sink received, in memory only, newest last (docs/recovery.md, "Recovery notices").</summary>
public sealed class Mailbox
{
    private readonly Lock _gate = new();
    private readonly List<ReceivedMail> _messages = [];

    /// <summary>While true the sink answers every connection "421 not available": a relay that is down.</summary>
    public bool Refusing { get; set; }

    public IReadOnlyList<ReceivedMail> Messages
    {
        get
        {
            lock (_gate)
            {
                return [.. _messages];
            }
        }
    }

    /// <summary>The messages sent to <paramref name="address"/> (case-insensitive).</summary>
    public IReadOnlyList<ReceivedMail> To(string address) =>
        [.. Messages.Where(m => m.To.Any(t => string.Equals(t, address, StringComparison.OrdinalIgnoreCase)))];

    internal void Add(ReceivedMail mail)
    {
        lock (_gate)
        {
            _messages.Add(mail);
        }
    }
}

/// <summary>
/// A minimal SMTP sink on loopback (RFC 5321's commands a client sends to relay one message: EHLO/HELO, MAIL, RCPT, DATA,
/// RSET, NOOP, QUIT), no TLS and no authentication: the demo tenants' relay for recovery notices points here (loopback,
/// <c>Security=None</c>, allowed outside Production only). Every message goes to the <see cref="Mailbox"/>.
/// </summary>
internal sealed class MailSink : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly Mailbox _mailbox;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;

    public MailSink(Mailbox mailbox, TimeProvider time)
    {
        _mailbox = mailbox;
        _time = time;
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _accepting = AcceptAsync();
    }

    public int Port { get; }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _accepting;
        }
        catch (OperationCanceledException)
        {
            // Stopped.
        }

        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            _ = Task.Run(() => ServeAsync(client));
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using var _ = client;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
            timeout.CancelAfter(TimeSpan.FromSeconds(30));
            var stream = client.GetStream();
            var reader = new StreamReader(stream, Encoding.Latin1);
            var writer = new StreamWriter(stream, Encoding.Latin1) { NewLine = "\r\n", AutoFlush = true };
            if (_mailbox.Refusing)
            {
                await writer.WriteLineAsync("421 emulator.local Service not available");
                return;
            }

            await writer.WriteLineAsync("220 emulator.local ESMTP mail sink");
            string? from = null;
            var to = new List<string>();
            while (await reader.ReadLineAsync(timeout.Token) is { } line)
            {
                var verb = line.Length >= 4 ? line[..4].ToUpperInvariant() : line.ToUpperInvariant();
                switch (verb)
                {
                    case "EHLO":
                        await writer.WriteLineAsync("250-emulator.local\r\n250-8BITMIME\r\n250 SMTPUTF8");
                        break;
                    case "HELO":
                        await writer.WriteLineAsync("250 emulator.local");
                        break;
                    case "MAIL":
                        from = Address(line);
                        to.Clear();
                        await writer.WriteLineAsync("250 OK");
                        break;
                    case "RCPT":
                        to.Add(Address(line));
                        await writer.WriteLineAsync("250 OK");
                        break;
                    case "DATA":
                        await writer.WriteLineAsync("354 End data with <CR><LF>.<CR><LF>");
                        var data = new StringBuilder();
                        while (await reader.ReadLineAsync(timeout.Token) is { } dataLine && dataLine != ".")
                        {
                            data.Append(dataLine.StartsWith("..", StringComparison.Ordinal) ? dataLine[1..] : dataLine).Append("\r\n");
                        }

                        Store(from ?? "", to, data.ToString());
                        await writer.WriteLineAsync("250 OK queued");
                        break;
                    case "RSET":
                        from = null;
                        to.Clear();
                        await writer.WriteLineAsync("250 OK");
                        break;
                    case "NOOP":
                        await writer.WriteLineAsync("250 OK");
                        break;
                    case "QUIT":
                        await writer.WriteLineAsync("221 Bye");
                        return;
                    default:
                        await writer.WriteLineAsync("502 Command not implemented");
                        break;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // The client went away; nothing to keep.
        }
    }

    private void Store(string from, List<string> to, string data)
    {
        using var stream = new MemoryStream(Encoding.Latin1.GetBytes(data));
        var message = MimeMessage.Load(stream);
        _mailbox.Add(new ReceivedMail(_time.GetUtcNow(), from, [.. to], message.Subject ?? "", message.TextBody ?? ""));
    }

    /// <summary>The address in <c>MAIL FROM:&lt;a@b&gt;</c> or <c>RCPT TO:&lt;a@b&gt;</c>.</summary>
    private static string Address(string line)
    {
        var open = line.IndexOf('<', StringComparison.Ordinal);
        var close = line.IndexOf('>', StringComparison.Ordinal);
        return open >= 0 && close > open ? line[(open + 1)..close] : line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
    }
}

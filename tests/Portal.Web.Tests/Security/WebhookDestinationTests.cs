using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Portal.Web.Platform;

namespace Portal.Web.Tests.Security;

/// <summary>
/// Finding F2 (docs/security-requirements.md W1): the alert webhook cannot be pointed into the service's own
/// network. Refused when saved, refused again at every connection on the addresses the name resolves to then,
/// and the audit says only delivered / failed / refused_destination.
/// </summary>
public sealed class WebhookDestinationTests : IAsyncLifetime
{
    private readonly PortalTestHost _host = new();
    private readonly string _keyVariable = "PORTAL_TEST_HOOK_KEY_" + Guid.NewGuid().ToString("N").ToUpperInvariant();
    private readonly TcpListener _listener = new(IPAddress.IPv6Any, 0) { Server = { DualMode = true } };
    private int _port;

    public async Task InitializeAsync()
    {
        _listener.Start();
        _port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        Environment.SetEnvironmentVariable(_keyVariable, Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));

        // Configured straight into the tenant (as an operator could), so that the connect-time guard is what stops it.
        _host.Settings["Portal:Tenants:0:AlertWebhook:Url"] = $"https://127.0.0.1:{_port}/hook";
        _host.Settings["Portal:Tenants:0:AlertWebhook:SigningSecretSecret"] = "env:" + _keyVariable;
        _host.Settings["Portal:Alerts:RetryDelaysSeconds:0"] = "0";
        await _host.InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        _listener.Stop();
        await _host.DisposeAsync();
    }

    [Fact]
    public async Task Saving_AnInternalDestination_IsRefusedWithAClearMessage()
    {
        string[] urls =
        [
            "https://127.0.0.1/hook", "https://[::1]/hook", "https://0x7f000001/hook", "https://2130706433/hook",
            "https://localhost/hook", "https://169.254.169.254/latest/meta-data", "https://[::ffff:7f00:1]/hook",
            "https://10.1.2.3/hook", "https://100.64.0.1/hook", "https://[fd00::1]/hook", "https://metadata.google.internal/",
        ];
        var admin = await _host.SignInAsync(TenancyTestKit.Admin);

        foreach (var url in urls)
        {
            var saved = await TenancyTestKit.PostAsync(admin, "/admin/policy", "/admin/policy/webhook", ("url", url));

            Assert.Equal(HttpStatusCode.UnprocessableEntity, saved.StatusCode);
            Assert.Contains("must point at a public internet address", await saved.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        var audit = (await TenancyTestKit.AuditAsync(_host)).Where(d => (string)d["action"]! == "admin.policy.webhook").ToList();
        Assert.Equal(urls.Length, audit.Count);
        Assert.All(audit, a => Assert.Equal("denied", (string)a["outcome"]!));
        Assert.All(audit, a => Assert.Equal("webhook_destination", (string)a["reason"]!));
    }

    [Fact]
    public async Task Alarm_ToAConfiguredLoopbackWebhook_NotSentAndAuditedAsRefusedDestination()
    {
        var agent = new ConsoleDriver(_host, await _host.SignInAsync(TenancyTestKit.Tier3));
        var pending = await agent.StartPushAsync(await agent.LookupAsync(TenancyTestKit.Alice));
        var push = Assert.Single(_host.Emulator.State.PendingPushes(TenancyTestKit.Alice));
        _host.Emulator.State.AnswerPush(push.TransactionId, push.Choices.First(c => c != push.CorrectAnswer));
        Assert.Equal("Rejected", (await agent.PollAsync(pending)).State);

        var delivery = await WaitForDeliveryAuditAsync(_host);

        Assert.Equal("failed", (string)delivery["outcome"]!);

        // Refused before connecting, so not retried, and nothing of a receiver's answer is recorded.
        Assert.Equal("refused_destination attempts:1", (string)delivery["reason"]!);
        Assert.False(_listener.Pending());
    }

    internal static async Task<System.Text.Json.Nodes.JsonObject> WaitForDeliveryAuditAsync(PortalTestHost host)
    {
        for (var i = 0; i < 400; i++)
        {
            if ((await TenancyTestKit.AuditAsync(host)).FirstOrDefault(d => (string)d["action"]! == "alert.webhook") is { } found)
            {
                return found;
            }

            await Task.Delay(50);
        }

        throw new Xunit.Sdk.XunitException("The alert delivery was not audited.");
    }
}

/// <summary>F2 at connection time: the webhook client's handler, against a listener on loopback that must never see a connection.</summary>
public sealed class WebhookDestinationGuardTests : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.IPv6Any, 0) { Server = { DualMode = true } };
    private readonly int _port;

    public WebhookDestinationGuardTests()
    {
        _listener.Start();
        _port = ((IPEndPoint)_listener.LocalEndpoint).Port;
    }

    public void Dispose() => _listener.Stop();

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("127.1.2.3")]
    [InlineData("2130706433")]
    [InlineData("0x7f000001")]
    [InlineData("0177.0.0.1")]
    [InlineData("::1")]
    [InlineData("::ffff:127.0.0.1")]
    [InlineData("::ffff:169.254.169.254")]
    [InlineData("::127.0.0.1")]
    [InlineData("64:ff9b::7f00:1")]
    [InlineData("2002:a00:1::1")]
    [InlineData("0.0.0.0")]
    [InlineData("::")]
    [InlineData("10.0.0.1")]
    [InlineData("172.16.5.4")]
    [InlineData("192.168.1.1")]
    [InlineData("169.254.169.254")]
    [InlineData("100.64.0.1")]
    [InlineData("fd00:ec2::254")]
    [InlineData("fc00::1")]
    [InlineData("fe80::1")]
    [InlineData("224.0.0.1")]
    [InlineData("ff02::1")]
    [InlineData("255.255.255.255")]
    public void InternalAddress_InEveryNotation_IsRefused(string address) =>
        Assert.True(WebhookDestinations.IsRefused(IPAddress.Parse(address)), address);

    [Theory]
    [InlineData("8.8.8.8")]
    [InlineData("203.0.113.10")]
    [InlineData("2001:4860:4860::8888")]
    [InlineData("::ffff:8.8.8.8")]
    public void PublicAddress_IsAllowed(string address) =>
        Assert.False(WebhookDestinations.IsRefused(IPAddress.Parse(address)), address);

    [Theory]
    [InlineData("https://127.0.0.1:{0}/")]
    [InlineData("https://[::1]:{0}/")]
    [InlineData("https://0x7f000001:{0}/")]
    [InlineData("https://2130706433:{0}/")]
    [InlineData("https://localhost:{0}/")]
    [InlineData("https://[::ffff:127.0.0.1]:{0}/")]
    [InlineData("https://metadata.google.internal:{0}/")]
    public async Task Connection_ToAnInternalDestination_IsRefusedBeforeAnyPacket(string template)
    {
        using var client = new HttpClient(WebhookDestinations.CreateHandler(allowLoopback: false));

        var error = await Assert.ThrowsAsync<HttpRequestException>(() => client.PostAsync(string.Format(System.Globalization.CultureInfo.InvariantCulture, template, _port), new StringContent("{}")));

        Assert.IsType<RefusedDestinationException>(error.InnerException);
        Assert.False(_listener.Pending(), "The guard let a connection through to the loopback listener.");
    }

    [Fact]
    public async Task Connection_ToAPublicNameThatResolvesToLoopback_IsRefused()
    {
        // DNS rebinding: the name looked public when saved; at connection time it answers with the loopback address.
        var resolved = new List<string>();
        using var client = new HttpClient(WebhookDestinations.CreateHandler(allowLoopback: false, (host, _) =>
        {
            resolved.Add(host);
            return Task.FromResult(new[] { IPAddress.Parse("203.0.113.10"), IPAddress.Loopback });
        }));

        var error = await Assert.ThrowsAsync<HttpRequestException>(() => client.PostAsync($"https://alerts.example:{_port}/hook", new StringContent("{}")));

        Assert.IsType<RefusedDestinationException>(error.InnerException);
        Assert.Equal(["alerts.example"], resolved);
        Assert.False(_listener.Pending());
    }
}

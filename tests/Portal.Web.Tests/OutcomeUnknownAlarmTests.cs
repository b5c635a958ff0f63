using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Portal.Web.Tenancy;
using Portal.Web.Verification.Actions;

namespace Portal.Web.Tests;

/// <summary>
/// An action whose outcome at the IdP is unknown (the change was sent, the IdP answered a gateway timeout) reaches the
/// tenant's security team at its alert webhook, over HTTP, signed as every alarm, type <c>action.outcome_unknown</c>
/// (docs/tenancy.md, "The alarms the webhook receives"); an IdP that refuses (a known outcome: nothing happened) raises
/// none. A host of its own: the webhook and its key are tenant-wide.
/// </summary>
public sealed class OutcomeUnknownAlarmTests : IAsyncLifetime
{
    private readonly PortalTestHost _host = new();
    private readonly ConcurrentQueue<(string Body, string Signature)> _received = new();
    private readonly string _hookKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
    private WebApplication? _receiver;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        _receiver = builder.Build();
        _receiver.MapPost("/hook", async (HttpContext context) =>
        {
            using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
            _received.Enqueue((await reader.ReadToEndAsync(), context.Request.Headers[AlertWebhookNotifier.SignatureHeader].ToString()));
            return Results.Ok();
        });
        await _receiver.StartAsync();

        var variable = "PORTAL_TEST_OUTCOME_HOOK_" + Guid.NewGuid().ToString("N").ToUpperInvariant();
        Environment.SetEnvironmentVariable(variable, _hookKey);
        _host.Settings["Portal:Alerts:AllowLoopbackDestinations"] = "true";
        _host.Settings["Portal:Tenants:0:AlertWebhook:SigningSecretSecret"] = "env:" + variable;
        _host.Settings["Portal:Tenants:0:AlertWebhook:Url"] = _receiver.Urls.First().TrimEnd('/') + "/hook";
        await _host.InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        if (_receiver is not null)
        {
            await _receiver.DisposeAsync();
        }
    }

    [Fact]
    public async Task IdpTimesOutAfterTheUnlockWasSent_AgentTold_SecurityTeamAlertedAtTheWebhook_ARefusalAlertsNoOne()
    {
        var agent = new ConsoleDriver(_host, await _host.SignInAsync(TenancyTestKit.Tier3));

        // Refused by the IdP (403): nothing happened, the agent is told, and no alarm.
        var refused = ConsoleDriver.VerificationId(await agent.VerifyByPushAsync(TenancyTestKit.Alice));
        _host.Emulator.State.FailNext(403, "/lifecycle/unlock");
        Assert.Equal(HttpStatusCode.BadGateway, (await agent.ActAsync("unlock", refused)).StatusCode);

        // The unlock reaches the IdP and the gateway times out: it may have happened.
        var id = ConsoleDriver.VerificationId(await agent.VerifyByPushAsync(TenancyTestKit.Alice));
        _host.Emulator.State.FailNext(504, "/lifecycle/unlock");
        var response = await agent.ActAsync("unlock", id);
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Contains("the outcome is unknown", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var delivered = await WaitForAsync(async () => (await TenancyTestKit.AuditAsync(_host)).FirstOrDefault(d => (string)d["action"]! == "alert.webhook"));
        Assert.Equal("delivered attempts:1", (string)delivered["reason"]!);
        var (body, signature) = Assert.Single(_received);
        var alert = JsonNode.Parse(body)!;
        Assert.Equal(ActionService.OutcomeUnknownAlertType, (string)alert["type"]!);
        // The action and the IdP's code (Okta's E0000009, its internal error, with the 504).
        Assert.Equal("account_unlock E0000009", (string)alert["reason"]!);
        Assert.Equal(PortalTestHost.TenantId, (string)alert["tenantId"]!);
        Assert.False(string.IsNullOrEmpty((string?)alert["callerIdHash"]));
        Assert.Equal("a***@d***.example", (string)alert["callerMaskedLogin"]!);
        Assert.DoesNotContain(TenancyTestKit.Alice, body, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(_host.Emulator.State.FindCaller(TenancyTestKit.Alice)!.Id, body, StringComparison.Ordinal);

        // Signed by the documented recipe (docs/tenancy.md), computed here.
        var t = long.Parse(signature.Split(',')[0]["t=".Length..], System.Globalization.CultureInfo.InvariantCulture);
        var expected = Convert.ToHexString(HMACSHA256.HashData(Encoding.UTF8.GetBytes(_hookKey), Encoding.UTF8.GetBytes($"{t}.{body}"))).ToLowerInvariant();
        Assert.Equal($"t={t},v1={expected}", signature);

        // The action's own record says failed with the IdP's code, as before.
        var records = await TenancyTestKit.AuditAsync(_host);
        var unlocks = records.Where(r => (string)r["action"]! == "action.account_unlock").ToList();
        Assert.Equal(2, unlocks.Count);
        Assert.All(unlocks, r => Assert.Equal("failed", (string)r["outcome"]!));
        Assert.Contains(unlocks, r => (string)r["reason"]! == "E0000009");
    }

    private static async Task<T> WaitForAsync<T>(Func<Task<T?>> probe)
        where T : class
    {
        for (var i = 0; i < 100; i++)
        {
            if (await probe() is { } found)
            {
                return found;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException("The alarm did not reach the webhook within ten seconds.");
    }
}

using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Options;
using Portal.Audit;
using Portal.Web.Platform;

namespace Portal.Web.Tenancy;

/// <summary>A security alarm for the tenant's security team. It carries pseudonyms and masked logins only, never PII.</summary>
public sealed record AlertEvent
{
    public required string Id { get; init; }

    public required string TenantId { get; init; }

    /// <summary>e.g. <c>caller.alarm</c>.</summary>
    public required string Type { get; init; }

    /// <summary>e.g. <c>push_rejected</c>, <c>not_me</c>.</summary>
    public required string Reason { get; init; }

    public required DateTimeOffset At { get; init; }

    public string? CallerIdHash { get; init; }

    public string? CallerMaskedLogin { get; init; }

    public required string AgentSubject { get; init; }

    public required string AgentMaskedLogin { get; init; }

    public string? RequestId { get; init; }
}

/// <summary>Raises a tenant's alarm outside the request path: the agent's page never waits for the customer's receiver.</summary>
public interface IAlertNotifier
{
    void Raise(AlertEvent alert);

    /// <summary>
    /// Posts a test alarm (<c>Type = alert.test</c>) to the tenant's webhook now, once, without retries, and audits it
    /// as any delivery. Returns <c>delivered</c>, <c>failed</c>, <c>refused_destination</c>, <c>no_webhook</c> or
    /// <c>no_signing_key</c>: never the receiver's status, as for every delivery (F2).
    /// </summary>
    Task<string> SendTestAsync(AlertEvent test, CancellationToken cancellationToken);
}

/// <summary>Settings of alert delivery (section <c>Portal:Alerts</c>).</summary>
public sealed class AlertOptions
{
    public const string Section = "Portal:Alerts";

    /// <summary>Waits before each retry; their count is the number of retries. Empty: after 5 s, 30 s and 2 min.</summary>
    public List<int> RetryDelaysSeconds { get; set; } = [];

    public IReadOnlyList<int> EffectiveRetryDelays() => RetryDelaysSeconds.Count == 0 ? [5, 30, 120] : RetryDelaysSeconds;

    public int TimeoutSeconds { get; set; } = 10;

    /// <summary>
    /// Development only (refused at start-up elsewhere): lets the webhook reach a receiver on this machine, for
    /// the local demo and the tests. Everywhere else loopback, private and metadata addresses are refused.
    /// </summary>
    public bool AllowLoopbackDestinations { get; set; }
}

/// <summary>Refuses, at start-up, a loopback webhook destination outside Development.</summary>
internal sealed class AlertOptionsValidator(IHostEnvironment environment) : IValidateOptions<AlertOptions>
{
    public ValidateOptionsResult Validate(string? name, AlertOptions options) =>
        options.AllowLoopbackDestinations && !environment.IsDevelopment()
            ? ValidateOptionsResult.Fail("Portal:Alerts:AllowLoopbackDestinations is true outside Development. It is for a local receiver in the demo and tests only; remove the setting.")
            : ValidateOptionsResult.Success;
}

/// <summary>
/// Signs and posts alarms to the tenant's webhook. The body is JSON; the header
/// <c>X-Portal-Signature: t=UNIX,v1=HEX</c> is HMAC-SHA256 over <c>t + "." + body</c> with the tenant's
/// signing key (a receiver checks it and the age of <c>t</c>, which defeats forgery and replay);
/// <c>X-Portal-Delivery</c> is the alarm id, the same on every retry, so a receiver can drop duplicates.
/// Failed deliveries (network, timeout, 408, 429, 5xx) are retried; each delivery is audited as
/// <c>alert.webhook</c> with <c>delivered</c>, <c>failed</c> or <c>refused_destination</c> and nothing of the
/// receiver's answer, so the audit is no oracle into the networks a URL can name (F2). The queue is per instance: an alarm is also always in the audit trail and the log.
/// </summary>
internal sealed partial class AlertWebhookNotifier(
    ITenantCatalog tenants,
    AlertSigningKeys keys,
    IHttpClientFactory httpClients,
    IServiceScopeFactory scopes,
    IOptions<AlertOptions> options,
    TimeProvider clock,
    ILogger<AlertWebhookNotifier> logger) : BackgroundService, IAlertNotifier
{
    public const string HttpClientName = "portal-alerts";
    public const string SignatureHeader = "X-Portal-Signature";
    public const string DeliveryHeader = "X-Portal-Delivery";
    private const string RefusedDestination = "refused_destination";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly Channel<AlertEvent> _queue = Channel.CreateBounded<AlertEvent>(new BoundedChannelOptions(1000) { FullMode = BoundedChannelFullMode.DropWrite });

    public void Raise(AlertEvent alert)
    {
        var tenant = tenants.Find(alert.TenantId);
        if (tenant is null || string.IsNullOrEmpty(tenant.AlertWebhook.Url))
        {
            return;
        }

        if (!_queue.Writer.TryWrite(alert))
        {
            QueueFull(logger, alert.TenantId);
        }
    }

    public async Task<string> SendTestAsync(AlertEvent test, CancellationToken cancellationToken)
    {
        var tenant = tenants.Find(test.TenantId);
        if (tenant is null || string.IsNullOrEmpty(tenant.AlertWebhook.Url))
        {
            return "no_webhook";
        }

        var key = keys.Resolve(tenant);
        var failure = key is null ? "no_signing_key" : await PostAsync(new Uri(tenant.AlertWebhook.Url), key, JsonSerializer.Serialize(test, Json), test.Id, cancellationToken);
        await AuditAsync(test, failure, 1, cancellationToken);
        return failure switch
        {
            null => "delivered",
            RefusedDestination or "no_signing_key" => failure,
            _ => "failed",
        };
    }

    /// <summary>The signature header value for a body, as a receiver recomputes it.</summary>
    public static string Sign(byte[] key, long unixSeconds, string body)
    {
        var t = unixSeconds.ToString(CultureInfo.InvariantCulture);
        var mac = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(t + "." + body));
        return $"t={t},v1={Convert.ToHexStringLower(mac)}";
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var alert in _queue.Reader.ReadAllAsync(stoppingToken))
            {
                // One at a time per instance; a slow receiver delays only other alarms, never an agent.
                await DeliverAsync(alert, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    private async Task DeliverAsync(AlertEvent alert, CancellationToken ct)
    {
        var tenant = tenants.Find(alert.TenantId);
        if (tenant is null || string.IsNullOrEmpty(tenant.AlertWebhook.Url))
        {
            return;
        }

        var key = keys.Resolve(tenant);
        var body = JsonSerializer.Serialize(alert, Json);
        var delays = options.Value.EffectiveRetryDelays();
        var attempt = 0;
        string? failure = null;
        while (true)
        {
            attempt++;
            failure = key is null ? "no_signing_key" : await PostAsync(new Uri(tenant.AlertWebhook.Url), key, body, alert.Id, ct);
            if (failure is null || key is null || attempt > delays.Count || !IsRetryable(failure))
            {
                break;
            }

            await Task.Delay(TimeSpan.FromSeconds(Math.Max(0, delays[attempt - 1])), clock, ct);
        }

        if (failure is not null)
        {
            DeliveryFailed(logger, alert.TenantId, failure, attempt);
        }

        await AuditAsync(alert, failure, attempt, ct);
    }

    private async Task<string?> PostAsync(Uri url, byte[] key, string body, string deliveryId, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add(SignatureHeader, Sign(key, clock.GetUtcNow().ToUnixTimeSeconds(), body));
        request.Headers.Add(DeliveryHeader, deliveryId);
        request.Headers.UserAgent.Add(new ProductInfoHeaderValue("Portal-Alerts", "1"));
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(Math.Clamp(options.Value.TimeoutSeconds, 1, 60)));
        try
        {
            using var response = await httpClients.CreateClient(HttpClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            var status = (int)response.StatusCode;
            return status is >= 200 and < 300 ? null : "http_" + status.ToString(CultureInfo.InvariantCulture);
        }
        catch (HttpRequestException ex) when (ex.InnerException is RefusedDestinationException)
        {
            return RefusedDestination;
        }
        catch (HttpRequestException)
        {
            return "unreachable";
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return "timeout";
        }
    }

    private static bool IsRetryable(string failure) =>
        failure is "unreachable" or "timeout" or "http_408" or "http_429" || failure.StartsWith("http_5", StringComparison.Ordinal);

    private async Task AuditAsync(AlertEvent alert, string? failure, int attempts, CancellationToken ct)
    {
        using var scope = scopes.CreateScope();
        var audit = scope.ServiceProvider.GetRequiredService<IAuditTrail>();
        // The tenant sees whether it arrived, never the receiver's status or error: no port scan through the audit.
        var outcome = failure switch
        {
            null => "delivered",
            RefusedDestination => RefusedDestination,
            _ => "failed",
        };
        var reason = outcome + " attempts:" + attempts.ToString(CultureInfo.InvariantCulture);
        try
        {
            await audit.RecordAsync(
                new AuditEntry
                {
                    TenantId = alert.TenantId,
                    Action = "alert.webhook",
                    Outcome = failure is null ? AuditOutcome.Succeeded : AuditOutcome.Failed,
                    Reason = reason,
                    AgentSubjectId = alert.AgentSubject,
                    AgentLogin = alert.AgentMaskedLogin,
                    RequestId = alert.RequestId,
                },
                ct);
        }
        catch (AuditUnavailableException ex)
        {
            AuditFailed(logger, ex.GetType().Name);
        }
    }

    [LoggerMessage(EventId = PortalEvents.AlertDeliveryFailed, Level = LogLevel.Warning, Message = "Alert webhook of tenant {TenantId} failed: {Failure} after {Attempts} attempts")]
    private static partial void DeliveryFailed(ILogger logger, string tenantId, string failure, int attempts);

    [LoggerMessage(EventId = PortalEvents.AlertQueueFull, Level = LogLevel.Error, Message = "Alert queue full; an alarm of tenant {TenantId} was not sent to its webhook (it is in the audit trail)")]
    private static partial void QueueFull(ILogger logger, string tenantId);

    [LoggerMessage(EventId = PortalEvents.AlertAuditFailed, Level = LogLevel.Error, Message = "The audit store could not record an alert delivery ({ErrorType})")]
    private static partial void AuditFailed(ILogger logger, string errorType);
}

/// <summary>
/// The tenant's webhook signing key: generated in the admin console and stored encrypted with Data
/// Protection, or named in configuration as a secret reference. Never shown again after generation.
/// </summary>
public sealed class AlertSigningKeys(IDataProtectionProvider provider, ISecretResolver secrets)
{
    private readonly IDataProtector _protector = provider.CreateProtector("Portal.AlertWebhook.SigningKey.v1");

    /// <summary>A new 256-bit key: the text to show the admin once, and its stored (encrypted) form.</summary>
    public (string Display, string Protected) Generate(string tenantId)
    {
        var display = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        return (display, _protector.Protect(tenantId + "\n" + display));
    }

    /// <summary>The key bytes for signing (the UTF-8 bytes of the key text the receiver holds), or null.</summary>
    public byte[]? Resolve(TenantSettings tenant)
    {
        var hook = tenant.AlertWebhook;
        try
        {
            if (!string.IsNullOrEmpty(hook.SigningSecretProtected))
            {
                var parts = _protector.Unprotect(hook.SigningSecretProtected).Split('\n', 2);

                // Bound to its tenant: a protected key copied into another tenant's document does not sign there.
                return parts.Length == 2 && parts[0] == tenant.Id ? Encoding.UTF8.GetBytes(parts[1]) : null;
            }

            return string.IsNullOrEmpty(hook.SigningSecretSecret) ? null : Encoding.UTF8.GetBytes(secrets.Resolve(hook.SigningSecretSecret, "AlertWebhook:SigningSecretSecret"));
        }
        catch (Exception ex) when (ex is CryptographicException or InvalidOperationException)
        {
            return null;
        }
    }
}

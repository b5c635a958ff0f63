using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;
using Portal.Audit;
using Portal.Idp;
using Portal.Web.Agents;
using Portal.Web.Platform;
using Portal.Web.Tenancy;
using Portal.Web.Verification.Methods;

namespace Portal.Web.Verification.StepUp;

/// <summary>What the agent reads out once: the link and its short code. Neither is stored.</summary>
public sealed record StepUpStarted(string PendingId, Uri Link, string ShortCode)
{
    public override string ToString() => $"StepUpStarted {{ PendingId = {PendingId} }}";
}

/// <summary>
/// Where the caller's browser goes after the right short code: the sign-in under way (<see cref="State"/>) and the
/// value its browser must carry back. Neither is stored in clear.
/// </summary>
public sealed record StepUpRedirect(string State, string BrowserValue)
{
    /// <summary>The code was wrong and the link may be tried again (<c>wrong_code</c>).</summary>
    public static readonly Refusal WrongCode = new("wrong_code", "That code is not right.");

    /// <summary>The link cannot lead to a sign-in any more; the caller's pages say no more than that (<c>link_closed</c>).</summary>
    public static readonly Refusal Closed = new("link_closed", "This link can no longer be used.");

    public override string ToString() => "StepUpRedirect";
}

/// <summary>The verdict on an ID token, before it is applied; <see cref="Reason"/> is null when it passes.</summary>
public sealed record StepUpVerdict(string? Reason, bool Alarm)
{
    public static readonly StepUpVerdict Pass = new(null, false);
}

/// <summary>
/// <c>oidc.stepup</c>: the agent starts it, the caller opens a one-time link, types the short code the agent read
/// out, and signs in to their own IdP with <c>prompt=login</c> and <c>max_age=0</c>. The portal accepts only an ID
/// token whose subject is that caller, whose <c>auth_time</c> is fresh and whose <c>amr</c> (or <c>acrs</c>) shows
/// MFA; an absent claim is a failure (docs/security-requirements.md V8). Single use, ten minutes (V2).
/// </summary>
public sealed class StepUpService(
    VerificationStore verifications,
    VerificationVerdicts verdicts,
    StepUpStore links,
    StepUpOidc oidc,
    CallerReferences references,
    ICallerPseudonymizer pseudonyms,
    IAuditTrail audit,
    IDataProtectionProvider protection,
    ITenantCatalog tenants,
    ILogger<StepUpService> logger)
{
    public const string CallbackPath = "/stepup/callback";

    /// <summary>A step-up sign-in older than this is not fresh, whatever the IdP says.</summary>
    public static readonly TimeSpan MaxAuthAge = TimeSpan.FromMinutes(5);

    /// <summary>Clock skew allowed between the IdP and the portal.</summary>
    public static readonly TimeSpan Skew = TimeSpan.FromSeconds(5);

    private readonly IDataProtector _verifiers = protection.CreateProtector("Portal.StepUp.Verifier.v1");

    /// <summary>
    /// Whether the link can still be opened (for the page that asks for the code). A GET changes no state: a spent
    /// link fetched again is only audited, as the sign that the link is in a second pair of hands.
    /// </summary>
    public async Task<bool> IsOpenAsync(RequestContext origin, string token, CancellationToken ct)
    {
        var link = await links.GetLinkAsync(token, ct);
        if (link is null)
        {
            return false;
        }

        if (!link.Used && link.WrongCodes < StepUpStore.MaxWrongCodes && links.Now < link.ExpiresAt)
        {
            return true;
        }

        var tenant = tenants.Find(link.TenantId);
        var pending = tenant is null ? null : await verifications.GetPendingAsync(tenant.Id, link.PendingId, ct);
        var callerId = pending is null ? null : references.FromRest(tenant!.Id, pending.CallerRefProtected);
        if (link.Used && callerId is not null)
        {
            await audit.RecordAsync(Entry(origin, tenant!, pending!, callerId, CodeAction(pending!), AuditOutcome.Denied, "link_reused"), ct);
        }

        return false;
    }

    /// <summary>
    /// For the page that asks for the code: who is asking and for what, when the link is a manager's approval
    /// (docs/recovery.md) and can still be opened; null for a caller's own step-up (whose page says nothing about
    /// anyone) and for a link that is closed. Changes nothing.
    /// </summary>
    public async Task<ManagerRequest?> ManagerRequestAsync(string token, CancellationToken ct)
    {
        var link = await links.GetLinkAsync(token, ct);
        var tenant = link is null ? null : tenants.Find(link.TenantId);
        var pending = tenant is null ? null : await verifications.GetPendingAsync(tenant.Id, link!.PendingId, ct);
        return pending is { Method: VerificationMethods.RecoveryManager, State: ChallengeState.Waiting } && !link!.Used && links.Now < link.ExpiresAt
            ? ManagerSignIn.Describe(tenant!, pending.CallerMaskedLogin)
            : null;
    }

    /// <summary>
    /// The caller typed the short code. The right one spends the link (only once, V5) and sends the browser to its
    /// IdP; a wrong one is counted against the link only, and the fifth burns the link and fails the verification.
    /// </summary>
    public async Task<Outcome<StepUpRedirect>> OpenAsync(RequestContext origin, string token, string? code, CancellationToken ct)
    {
        var typed = (code ?? "").Trim().ToUpperInvariant().Replace(" ", "", StringComparison.Ordinal).Replace("-", "", StringComparison.Ordinal);
        var (result, link) = await links.OpenAsync(token, l => FixedTimeEquals(l.CodeHash, CodeHash(l.TenantId, l.PendingId, typed)), ct);
        var tenant = link is null ? null : tenants.Find(link.TenantId);
        var pending = tenant is null ? null : await verifications.GetPendingAsync(tenant.Id, link!.PendingId, ct);
        var callerId = pending is null ? null : references.FromRest(tenant!.Id, pending.CallerRefProtected);
        if (tenant is null || pending is null || callerId is null)
        {
            return StepUpRedirect.Closed;
        }

        if (result != LinkOpening.Opened)
        {
            return await RefuseOpeningAsync(origin, tenant, pending, callerId, result, ct);
        }

        if (pending.State != ChallengeState.Waiting || verifications.Now >= pending.ExpiresAt)
        {
            await audit.RecordAsync(Entry(origin, tenant, pending, callerId, CodeAction(pending), AuditOutcome.Denied, "link_expired"), ct);
            return StepUpRedirect.Closed;
        }

        var redirect = await BeginSignInAsync(tenant, pending, ct);
        await audit.RecordAsync(Entry(origin, tenant, pending, callerId, CodeAction(pending), AuditOutcome.Succeeded, null), ct);
        return redirect;
    }

    /// <summary>A link that did not open: each way is audited, and the ones that show the link is not the caller's alone end the step-up.</summary>
    private async Task<Refusal> RefuseOpeningAsync(RequestContext origin, TenantSettings tenant, PendingVerification pending, string callerId, LinkOpening result, CancellationToken ct)
    {
        switch (result)
        {
            case LinkOpening.WrongCode:
                // F7: whoever holds the link is anonymous; their wrong codes count against the link (five burn it),
                // never against the caller, or anyone with a link could put the caller into a cool-down.
                await audit.RecordAsync(Entry(origin, tenant, pending, callerId, CodeAction(pending), AuditOutcome.Failed, "wrong_code"), ct);
                return StepUpRedirect.WrongCode;
            case LinkOpening.TooManyWrongCodes:
                await EndAsync(origin, tenant, pending, callerId, "code_attempts", alarm: false, ct, countAgainstCaller: false);
                return StepUpRedirect.Closed;
            case LinkOpening.AlreadyUsed:
                // A second opening means the link is in more than one pair of hands: the step-up it belongs to fails.
                await audit.RecordAsync(Entry(origin, tenant, pending, callerId, CodeAction(pending), AuditOutcome.Denied, "link_reused"), ct);
                if (pending.State == ChallengeState.Waiting)
                {
                    await EndAsync(origin, tenant, pending, callerId, "link_reused", alarm: false, ct);
                }

                return StepUpRedirect.Closed;
            default:
                await audit.RecordAsync(Entry(origin, tenant, pending, callerId, CodeAction(pending), AuditOutcome.Denied, "link_expired"), ct);
                return StepUpRedirect.Closed;
        }
    }

    /// <summary>The sign-in at the caller's IdP: its state, nonce and PKCE verifier, bound to the browser that typed the code.</summary>
    private async Task<StepUpRedirect> BeginSignInAsync(TenantSettings tenant, PendingVerification pending, CancellationToken ct)
    {
        var state = StepUpStore.NewToken();
        var browser = StepUpStore.NewToken();
        await links.CreateFlowAsync(state, new StepUpFlow
        {
            TenantId = tenant.Id,
            PendingId = pending.Id,
            Nonce = StepUpStore.NewToken(),
            VerifierProtected = _verifiers.Protect(StepUpStore.NewToken()),
            BrowserHash = StepUpStore.Hash(browser),
            ExpiresAt = pending.ExpiresAt,
        }, ct);
        return new StepUpRedirect(state, browser);
    }

    /// <summary>
    /// The IdP's authorize address for a sign-in under way, for the page that sends the caller's browser there by a
    /// GET navigation (docs/security-decisions.md: the form post itself never leaves the portal's origin). Only the
    /// browser that typed the code gets it; null when the flow is unknown, spent, expired or another browser's.
    /// </summary>
    public async Task<Uri?> ContinueAsync(RequestContext origin, string state, string? browserValue, CancellationToken ct)
    {
        var flow = await links.GetFlowAsync(state, ct);
        var tenant = flow is null ? null : tenants.Find(flow.TenantId);
        if (flow is null || tenant is null || string.IsNullOrEmpty(browserValue) || !FixedTimeEquals(flow.BrowserHash, StepUpStore.Hash(browserValue)))
        {
            return null;
        }

        string verifier;
        try
        {
            verifier = _verifiers.Unprotect(flow.VerifierProtected);
        }
        catch (CryptographicException)
        {
            return null;
        }

        var configuration = await oidc.GetConfigurationAsync(tenant, ct);
        var parameters = new Dictionary<string, string?>
        {
            ["client_id"] = tenant.StepUp.ClientId,
            ["response_type"] = "code",
            ["redirect_uri"] = RedirectUri(origin),
            ["scope"] = "openid",
            ["state"] = state,
            ["nonce"] = flow.Nonce,
            ["code_challenge"] = Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(verifier))),
            ["code_challenge_method"] = "S256",

            // A fresh sign-in now, whatever session the browser already has at the IdP. No login_hint: the link
            // must not tell whoever holds it which account it is for.
            ["prompt"] = "login",
            ["max_age"] = "0",
        };
        if (tenant.StepUp.RequiredAcrs.Count > 0)
        {
            parameters["claims"] = new JsonObject
            {
                ["id_token"] = new JsonObject
                {
                    ["acrs"] = new JsonObject { ["essential"] = true, ["values"] = new JsonArray([.. tenant.StepUp.RequiredAcrs.Select(a => (JsonNode)a)]) },
                },
            }.ToJsonString();
        }

        return new Uri(QueryHelpers.AddQueryString(configuration.AuthorizationEndpoint, parameters));
    }

    /// <summary>The IdP sent the caller back. Returns true only when the caller is now verified.</summary>
    public async Task<bool> CallbackAsync(RequestContext origin, string? state, string? code, string? error, string? browserValue, CancellationToken ct)
    {
        var flow = await links.TakeFlowAsync(state, ct);
        var tenant = flow is null ? null : tenants.Find(flow.TenantId);
        var pending = tenant is null ? null : await verifications.GetPendingAsync(tenant.Id, flow!.PendingId, ct);
        var callerId = pending is null ? null : references.FromRest(tenant!.Id, pending.CallerRefProtected);
        if (flow is null || tenant is null || pending is null || callerId is null)
        {
            // An unknown or replayed state: nothing to attach it to, and nothing is verified.
            StepUpLog.CallbackUnknown(logger);
            return false;
        }

        if (pending.State != ChallengeState.Waiting)
        {
            return false;
        }

        if (verifications.Now >= pending.ExpiresAt)
        {
            await EndAsync(origin, tenant, pending, callerId, IsManagers(pending) ? "manager_timed_out" : "stepup_timed_out", alarm: false, ct);
            return false;
        }

        // The sign-in must finish in the browser that typed the code: a state lifted from elsewhere is refused.
        if (string.IsNullOrEmpty(browserValue) || !FixedTimeEquals(flow.BrowserHash, StepUpStore.Hash(browserValue)))
        {
            return await RefuseAsync(origin, tenant, pending, callerId, new StepUpVerdict("browser_mismatch", false), ct);
        }

        if (!string.IsNullOrEmpty(error) || string.IsNullOrEmpty(code))
        {
            return await RefuseAsync(origin, tenant, pending, callerId, new StepUpVerdict("idp_error", false), ct);
        }

        string verifier;
        try
        {
            verifier = _verifiers.Unprotect(flow.VerifierProtected);
        }
        catch (CryptographicException)
        {
            return await RefuseAsync(origin, tenant, pending, callerId, new StepUpVerdict("unreadable", false), ct);
        }

        var token = await oidc.RedeemAsync(tenant, code, RedirectUri(origin), verifier, ct);
        if (token is null)
        {
            return await RefuseAsync(origin, tenant, pending, callerId, new StepUpVerdict("token_invalid", false), ct);
        }

        // A manager's approval (docs/recovery.md): the sign-in must be the manager's, whom the IdP named at the start.
        var signer = IsManagers(pending) ? references.FromRest(tenant.Id, pending.ApproverRefProtected ?? "") : callerId;
        if (signer is null)
        {
            return await RefuseAsync(origin, tenant, pending, callerId, new StepUpVerdict("unreadable", false), ct);
        }

        var verdict = Judge(tenant, token, flow.Nonce, signer, pending.CreatedAt, verifications.Now, IsManagers(pending) ? callerId : null);
        if (verdict.Reason is not null)
        {
            return await RefuseAsync(origin, tenant, pending, callerId, verdict, ct);
        }

        var done = await EndAsync(origin, tenant, pending, callerId, null, alarm: false, ct);
        return done.State == ChallengeState.Approved;
    }

    /// <summary>
    /// The checks of V8 on a token whose signature, issuer, audience and lifetime already passed. Every claim the
    /// decision needs must be present: a missing one fails like a wrong one.
    /// </summary>
    /// <remarks>
    /// <paramref name="callerId"/> is who must have signed in: the caller, or for a manager's approval the manager, with
    /// <paramref name="reportId"/> the caller they are asked about. Someone else signing in is an alarm: for a manager's
    /// approval, <c>manager_signin_by_caller</c> when the caller themself signed in with the manager's link, else
    /// <c>manager_signin_mismatch</c>.
    /// </remarks>
    internal static StepUpVerdict Judge(TenantSettings tenant, JsonWebToken token, string nonce, string callerId, DateTimeOffset startedAt, DateTimeOffset now, string? reportId = null)
    {
        if (!token.TryGetPayloadValue<string>("nonce", out var tokenNonce) || !FixedTimeEquals(tokenNonce, nonce))
        {
            return new StepUpVerdict("nonce_mismatch", false);
        }

        var subjectClaim = tenant.StepUp.EffectiveSubjectClaim(tenant.Idp.Kind);
        if (!token.TryGetPayloadValue<string>(subjectClaim, out var subject) || string.IsNullOrEmpty(subject))
        {
            return new StepUpVerdict("subject_missing", false);
        }

        // Someone else signed in: the person on the phone is not the account holder, or is relaying to them.
        var sameCaller = subjectClaim == "oid"
            ? string.Equals(subject, callerId, StringComparison.OrdinalIgnoreCase)
            : string.Equals(subject, callerId, StringComparison.Ordinal);
        if (!sameCaller)
        {
            if (reportId is null)
            {
                return new StepUpVerdict("subject_mismatch", true);
            }

            var isReport = subjectClaim == "oid"
                ? string.Equals(subject, reportId, StringComparison.OrdinalIgnoreCase)
                : string.Equals(subject, reportId, StringComparison.Ordinal);
            return new StepUpVerdict(isReport ? "manager_signin_by_caller" : "manager_signin_mismatch", true);
        }

        if (!token.TryGetPayloadValue<long>("auth_time", out var authTimeSeconds))
        {
            return new StepUpVerdict("auth_time_missing", false);
        }

        var authTime = DateTimeOffset.FromUnixTimeSeconds(authTimeSeconds);
        if (authTime < startedAt - Skew || now - authTime > MaxAuthAge || authTime > now + TokenSkew)
        {
            return new StepUpVerdict("auth_time_stale", false);
        }

        var amr = ClaimValues(token, "amr");
        var acrs = ClaimValues(token, "acrs");
        var mfa = tenant.StepUp.EffectiveRequiredAmr.Any(amr.Contains) || tenant.StepUp.RequiredAcrs.Any(acrs.Contains);
        return mfa ? StepUpVerdict.Pass : new StepUpVerdict("mfa_missing", false);
    }

    private static readonly TimeSpan TokenSkew = TimeSpan.FromMinutes(5);

    private static HashSet<string> ClaimValues(JsonWebToken token, string name) =>
        token.Claims.Where(c => c.Type == name).Select(c => c.Value).ToHashSet(StringComparer.Ordinal);

    private static string RedirectUri(RequestContext origin) => origin.Absolute(CallbackPath);


    private static bool FixedTimeEquals(string a, string b) =>
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(a), Encoding.UTF8.GetBytes(b));

    private async Task<bool> RefuseAsync(RequestContext origin, TenantSettings tenant, PendingVerification pending, string callerId, StepUpVerdict verdict, CancellationToken ct)
    {
        StepUpLog.Refused(logger, tenant.Id, verdict.Reason!);
        await EndAsync(origin, tenant, pending, callerId, verdict.Reason, verdict.Alarm, ct);
        return false;
    }

    private string CodeHash(string tenantId, string pendingId, string code) => StepUpMethod.CodeHash(pseudonyms, tenantId, pendingId, code);

    /// <summary>
    /// Ends a step-up with the verdict on the caller's sign-in: approved opens the verification session exactly once
    /// (as a push approval does); refused counts as a failure, and a wrong subject is an alarm (V6, V8). The caller's
    /// browser makes these requests: the audit names the agent who started the step-up.
    /// </summary>
    private Task<PendingVerification> EndAsync(RequestContext origin, TenantSettings tenant, PendingVerification pending, string callerId, string? refusedReason, bool alarm, CancellationToken ct, bool countAgainstCaller = true)
    {
        var request = new AgentRequest(new AgentContext(tenant.Id, pending.AgentSessionId, pending.AgentSubject, pending.AgentMaskedLogin ?? "", []), tenant, origin);
        var resultAction = IsManagers(pending) ? ManagerApprovalMethod.ResultAction : StepUpMethod.ResultAction;
        return refusedReason is null
            ? verdicts.ApproveAsync(request, pending, callerId, resultAction, ct)
            : verdicts.FailAsync(request, pending, callerId, ChallengeState.Rejected, resultAction, refusedReason, ct, alarm, countAgainstCaller);
    }

    /// <summary>Whether the link is a manager's approval of a report's recovery rather than a caller's own step-up.</summary>
    private static bool IsManagers(PendingVerification pending) => pending.Method == VerificationMethods.RecoveryManager;

    /// <summary>The audit action of what is done with a link's code: the manager's approval's own, so its records read together.</summary>
    private static string CodeAction(PendingVerification pending) => IsManagers(pending) ? "verification.manager.code" : "verification.stepup.code";

    private static AuditEntry Entry(RequestContext origin, TenantSettings tenant, PendingVerification pending, string callerId, string action, AuditOutcome outcome, string? reason) =>
        AuditEntries.For(origin, new AgentContext(tenant.Id, pending.AgentSessionId, pending.AgentSubject, pending.AgentMaskedLogin ?? "", []), action, outcome, reason) with
        {
            CallerId = callerId,
            CallerLogin = pending.CallerMaskedLogin,
            Method = pending.Method,
        };
}

/// <summary>
/// The step-up app's OIDC side: discovery (cached per authority, refreshed by <see cref="ConfigurationManager{T}"/>),
/// the code exchange with the client secret from its reference, and ID-token validation with Microsoft.IdentityModel.
/// </summary>
public sealed class StepUpOidc(IHttpClientFactory httpClients, TenantSecrets secrets, IHostEnvironment environment, ILogger<StepUpOidc> logger)
{
    public const string HttpClientName = "portal-stepup";

    private readonly ConcurrentDictionary<string, ConfigurationManager<OpenIdConnectConfiguration>> _managers = new(StringComparer.Ordinal);

    public Task<OpenIdConnectConfiguration> GetConfigurationAsync(TenantSettings tenant, CancellationToken ct) =>
        Manager(tenant.StepUp.Authority).GetConfigurationAsync(ct);

    /// <summary>Exchanges the code and validates the ID token; null when either fails (the reason is logged, without the token).</summary>
    public async Task<JsonWebToken?> RedeemAsync(TenantSettings tenant, string code, string redirectUri, string verifier, CancellationToken ct)
    {
        var configuration = await GetConfigurationAsync(tenant, ct);
        var secret = secrets.Resolve(tenant, TenantSecret.StepUpClient);
        using var request = new HttpRequestMessage(HttpMethod.Post, configuration.TokenEndpoint)
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "authorization_code",
                ["code"] = code,
                ["redirect_uri"] = redirectUri,
                ["code_verifier"] = verifier,
                ["client_id"] = tenant.StepUp.ClientId,
                ["client_secret"] = secret,
            }),
        };
        using var response = await httpClients.CreateClient(HttpClientName).SendAsync(request, ct);
        if (!response.IsSuccessStatusCode)
        {
            StepUpLog.TokenFailed(logger, tenant.Id, "exchange_" + (int)response.StatusCode);
            return null;
        }

        string? idToken;
        try
        {
            using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct));
            idToken = json.RootElement.TryGetProperty("id_token", out var value) ? value.GetString() : null;
        }
        catch (JsonException)
        {
            idToken = null;
        }

        if (string.IsNullOrEmpty(idToken))
        {
            StepUpLog.TokenFailed(logger, tenant.Id, "no_id_token");
            return null;
        }

        var result = await new JsonWebTokenHandler().ValidateTokenAsync(idToken, Parameters(tenant, configuration));
        if (!result.IsValid)
        {
            StepUpLog.TokenFailed(logger, tenant.Id, result.Exception?.GetType().Name ?? "invalid");
            return null;
        }

        return (JsonWebToken)result.SecurityToken;
    }

    internal static TokenValidationParameters Parameters(TenantSettings tenant, OpenIdConnectConfiguration configuration) => new()
    {
        // The issuer is the configured authority, not merely whatever the metadata says.
        ValidIssuer = tenant.StepUp.Authority.TrimEnd('/'),
        ValidAudience = tenant.StepUp.ClientId,
        IssuerSigningKeys = configuration.SigningKeys,
        ValidAlgorithms = [SecurityAlgorithms.RsaSha256, SecurityAlgorithms.RsaSsaPssSha256, SecurityAlgorithms.EcdsaSha256],
        ValidateIssuerSigningKey = true,
        RequireSignedTokens = true,
        RequireExpirationTime = true,
        ValidateLifetime = true,
        ClockSkew = TimeSpan.FromMinutes(2),
    };

    private ConfigurationManager<OpenIdConnectConfiguration> Manager(string authority) => _managers.GetOrAdd(authority.TrimEnd('/'), a =>
    {
        var uri = new Uri(a);
        var retriever = new HttpDocumentRetriever(httpClients.CreateClient(HttpClientName))
        {
            // Plain-http metadata only for the loopback emulator in Development (the settings validator refuses it elsewhere).
            RequireHttps = !(uri.Scheme == Uri.UriSchemeHttp && uri.IsLoopback && environment.IsDevelopment()),
        };
        return new ConfigurationManager<OpenIdConnectConfiguration>(a + "/.well-known/openid-configuration", new OpenIdConnectConfigurationRetriever(), retriever);
    });
}

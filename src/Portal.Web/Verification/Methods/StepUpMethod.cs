using System.Security.Cryptography;
using Portal.Audit;
using Portal.Idp;
using Portal.Web.Agents;
using Portal.Web.Platform;
using Portal.Web.Tenancy;
using Portal.Web.Verification.StepUp;

namespace Portal.Web.Verification.Methods;

/// <summary>
/// <c>oidc.stepup</c>, started by the agent: a one-time link and a short code the agent reads out. The caller's own
/// sign-in at their IdP decides it later (<see cref="StepUpService"/>, docs/security-requirements.md V8); until then
/// the agent's page can only see it run out (V2).
/// </summary>
public sealed class StepUpMethod(VerificationStore store, StepUpStore links, ICallerPseudonymizer pseudonyms, IAuditTrail audit, VerificationVerdicts verdicts) : IVerificationMethod
{
    /// <summary>The factor id an Okta caller's form names: step-up is offered to any Okta caller with a challengeable factor.</summary>
    public const string FactorId = "stepup";

    public const string ResultAction = "verification.stepup.result";

    /// <summary>V2: the link, its code and the sign-in it starts are void after this.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(10);

    // No 0/O, 1/I/L: the code is read out over the phone.
    private const string CodeAlphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789";

    public string Name => VerificationMethods.OidcStepUp;

    public bool IsPush => false;

    public string StartAction => "verification.stepup.start";

    public Refusal? CheckRequest(TenantSettings tenant, string? answer) => tenant.StepUp.IsConfigured
        ? null
        : new Refusal("stepup_not_configured", "Step-up sign-in is not set up for your organisation. Ask your portal administrator.");

    /// <summary>An Entra caller must have a strong method (the adapter then offers step-up); an Okta caller some challengeable factor.</summary>
    public Refusal? CheckFactor(TenantSettings tenant, IReadOnlyList<CallerFactor> factors, string factorId) =>
        factors.Any(f => f.Method == Name && f.Id == factorId) || (tenant.Idp.Kind == IdpKind.Okta && factorId == FactorId && factors.Any(f => f.Method is not null))
            ? null
            : new Refusal(VerificationMethodChecks.NotChallengeable, "This caller cannot be verified by a step-up sign-in.");

    public async Task<Outcome<VerificationStep>> StartAsync(VerificationAttempt attempt, CancellationToken ct)
    {
        var tenant = attempt.Request.Tenant;
        var started = await audit.BeginAsync(attempt.Entry, ct);
        var pending = attempt.Pending(Name, attempt.Now + Lifetime);
        var token = StepUpStore.NewToken();
        var code = NewCode();
        await store.CreatePendingAsync(pending, ct);
        attempt.Settle();
        await links.CreateLinkAsync(token, new StepUpLink
        {
            TenantId = tenant.Id,
            PendingId = pending.Id,
            CodeHash = CodeHash(pseudonyms, tenant.Id, pending.Id, code),
            ExpiresAt = pending.ExpiresAt,
        }, ct);
        await audit.CompleteAsync(started, AuditOutcome.Succeeded, null, ct);
        return VerificationStep.Challenge(pending) with
        {
            StepUp = new StepUpStarted(pending.Id, new Uri(attempt.Request.Origin.Absolute("/stepup/" + token)), code),
        };
    }

    /// <summary>A step-up is decided by the caller's own sign-in; polling only notices that it ran out (V2).</summary>
    public Task<Outcome<PendingVerification>> PollAsync(AgentRequest request, PendingVerification pending, string callerId, CancellationToken ct) =>
        verdicts.ExpireAsync(request, pending, callerId, ResultAction, "stepup_timed_out", ct);

    /// <summary>A short code of eight characters from an alphabet that reads out unambiguously (about 40 bits).</summary>
    internal static string NewCode() => RandomNumberGenerator.GetString(CodeAlphabet, 8);

    /// <summary>The short code as the link keeps it: keyed to the tenant and the challenge, never in clear.</summary>
    internal static string CodeHash(ICallerPseudonymizer pseudonyms, string tenantId, string pendingId, string code) =>
        pseudonyms.HashValue(tenantId, "stepup-code", pendingId + ":" + code);
}

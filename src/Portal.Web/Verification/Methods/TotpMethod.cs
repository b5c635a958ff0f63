using Portal.Audit;
using Portal.Idp;
using Portal.Web.Agents;
using Portal.Web.Platform;
using Portal.Web.Tenancy;

namespace Portal.Web.Verification.Methods;

/// <summary>
/// <c>okta.totp</c>: the caller reads the current code of their authenticator app; the IdP judges it in this request.
/// A code is accepted once per caller, whatever the IdP would say (V3).
/// </summary>
public sealed class TotpMethod(TenantDirectories directories, VerificationStore store, ICallerPseudonymizer pseudonyms, IAuditTrail audit, VerificationVerdicts verdicts) : IVerificationMethod
{
    public string Name => VerificationMethods.OktaTotp;

    public bool IsPush => false;

    public string StartAction => "verification.totp";

    public Refusal? CheckRequest(TenantSettings tenant, string? answer) =>
        Code(answer) is { Length: >= 6 and <= 8 } code && code.All(char.IsAsciiDigit)
            ? null
            : new Refusal("malformed_code", "A code is 6 to 8 digits. Ask the caller to read it again.");

    public Refusal? CheckFactor(TenantSettings tenant, IReadOnlyList<CallerFactor> factors, string factorId) =>
        VerificationMethodChecks.Challengeable(factors, factorId, Name);

    public async Task<Outcome<VerificationStep>> StartAsync(VerificationAttempt attempt, CancellationToken ct)
    {
        var (request, caller) = (attempt.Request, attempt.Caller);
        var tenant = request.Tenant;
        var passCode = Code(attempt.Answer);

        // V3: checked before the IdP sees the code.
        if (!await store.TryUseTotpAsync(tenant.Id, pseudonyms.HashValue(tenant.Id, "totp-use", caller.Id + ":" + passCode), ct))
        {
            await verdicts.CountFailureAsync(tenant, caller.IdHash, attempt.ReservationId, alarm: false, Name, caller.Id, ct);
            attempt.Settle();
            await audit.RecordAsync(attempt.Entry with { Outcome = AuditOutcome.Alarm, Reason = "code_replayed" }, ct);
            return Replayed;
        }

        var pending = await audit.BeginAsync(attempt.Entry, ct);
        var result = await directories.For(tenant).VerifyTotpAsync(caller.Id, attempt.FactorId, passCode, request.Origin.Challenge, ct);
        if (!result.IsSuccess && result.Error.Kind != IdpErrorKind.InvalidPasscode)
        {
            // The IdP did not judge the code (outage, refusal): the attempt is given back.
            await store.RefundAsync(tenant.Id, caller.IdHash, attempt.ReservationId, succeeded: false, CancellationToken.None);
            attempt.Settle();
            await audit.CompleteAsync(pending, AuditOutcome.Failed, result.Error.Code, ct);
            return verdicts.IdpRefusal("totp", tenant, result.Error);
        }

        var outcome = result.IsSuccess ? result.Value : TotpOutcome.Invalid;
        if (outcome != TotpOutcome.Accepted)
        {
            await verdicts.CountFailureAsync(tenant, caller.IdHash, attempt.ReservationId, alarm: false, Name, caller.Id, ct);
            attempt.Settle();
            var replayed = outcome == TotpOutcome.Replayed;
            await audit.CompleteAsync(pending, replayed ? AuditOutcome.Alarm : AuditOutcome.Failed, replayed ? "code_replayed" : "wrong_code", ct);
            return replayed ? Replayed : new Refusal("wrong_code", "The code is not right. Ask the caller to read the current code again.");
        }

        var session = await verdicts.OpenSessionAsync(request.Agent, tenant, caller, Name, ct, prior: attempt.Prior);
        await store.RefundAsync(tenant.Id, caller.IdHash, attempt.ReservationId, succeeded: true, ct);
        attempt.Settle();
        await audit.CompleteAsync(pending, AuditOutcome.Succeeded, PriorVerification.OpenedReason(null, attempt.Prior), ct);
        return VerificationStep.Verified(session.Id);
    }

    /// <summary>A code is judged in the request that carries it: there is never a challenge waiting.</summary>
    public Task<Outcome<PendingVerification>> PollAsync(AgentRequest request, PendingVerification pending, string callerId, CancellationToken ct) =>
        Task.FromResult<Outcome<PendingVerification>>(pending);

    private static Refusal Replayed => new("code_replayed", "That code was already used. Ask the caller to wait for the next code.");

    private static string Code(string? answer) => (answer ?? "").Trim();
}

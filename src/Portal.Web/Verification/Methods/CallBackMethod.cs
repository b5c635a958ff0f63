using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Portal.Audit;
using Portal.Idp;
using Portal.Web.Agents;
using Portal.Web.Platform;
using Portal.Web.Tenancy;

namespace Portal.Web.Verification.Methods;

/// <summary>
/// <c>recovery.callback</c>: a recovery method for a caller who cannot use their own factors (docs/recovery.md). The
/// agent reads a one-time code to whoever is on the line, hangs up, and calls the work phone the IdP has on file (never
/// a number the caller gives); the person who answers says the code back, and the agent types it in. It proves that
/// whoever answers the number on file is the person who called, and nothing more: no factor, no device. So it is
/// labelled weaker, it opens "Sign out everywhere" only unless the tenant's policy says otherwise, heightened-threat
/// mode refuses it, and the caller is told afterwards at their address on file.
/// </summary>
public sealed class CallBackMethod(
    TenantDirectories directories,
    VerificationStore store,
    ICallerPseudonymizer pseudonyms,
    IAuditTrail audit,
    VerificationVerdicts verdicts) : IVerificationMethod
{
    /// <summary>The factor id the console's form names: the method uses the phone on file, never a factor of the caller's.</summary>
    public const string FactorId = "callback";

    public const string ResultAction = "verification.callback.result";

    /// <summary>How long the agent has to call back and hear the code (V2).</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(10);

    /// <summary>Digits only: the code is read out twice over the phone.</summary>
    public const int CodeLength = 6;

    public string Name => VerificationMethods.RecoveryCallBack;

    /// <summary>Nothing reaches any device: no push limit is charged.</summary>
    public bool IsPush => false;

    public string StartAction => "verification.callback.start";

    /// <summary>Whether the console offers a call-back in <paramref name="tenant"/>: turned on, and a relay that can send the caller the recovery notice afterwards.</summary>
    public static bool IsOffered(TenantSettings tenant) => tenant.Recovery.CallBack && Recovery.RecoveryNotices.CanNotify(tenant);

    public Refusal? CheckRequest(TenantSettings tenant, string? answer) => IsOffered(tenant)
        ? null
        : new Refusal("recovery_not_enabled", "Call-back to the number on file is not set up for your organisation (it needs the recovery notices' mail relay too). Ask your portal administrator.");

    /// <summary>The caller's own factors do not matter here (they are the ones the caller cannot use): the form must name the call-back.</summary>
    public Refusal? CheckFactor(TenantSettings tenant, IReadOnlyList<CallerFactor> factors, string factorId) => factorId == FactorId
        ? null
        : new Refusal(VerificationMethodChecks.NotChallengeable, "This caller cannot be verified by a call-back.");

    public async Task<Outcome<VerificationStep>> StartAsync(VerificationAttempt attempt, CancellationToken ct)
    {
        var (request, caller) = (attempt.Request, attempt.Caller);
        var tenant = request.Tenant;
        var started = await audit.BeginAsync(attempt.Entry, ct);
        var callerNow = await directories.For(tenant).GetCallerAsync(caller.Id, ct);
        var refused = !callerNow.IsSuccess
            ? verdicts.IdpRefusal("caller", tenant, callerNow.Error)
            : RecoveryChecks.Closed(callerNow.Value.Status) ?? (string.IsNullOrWhiteSpace(callerNow.Value.Details.WorkPhone)
                ? new Refusal("no_work_phone", "The identity provider has no work phone for this caller, so there is no number to call back. Never call a number the caller gives you: use manager approval, or follow your organisation's procedure.")
                : null);
        if (refused is not null)
        {
            // Nothing was asked of anyone: the attempt is given back.
            await store.RefundAsync(tenant.Id, caller.IdHash, attempt.ReservationId, succeeded: false, CancellationToken.None);
            attempt.Settle();
            await audit.CompleteAsync(started, refused.Kind == RefusalKind.IdpFailed ? AuditOutcome.Failed : AuditOutcome.Denied, refused.Code, ct);
            return refused;
        }

        var code = RandomNumberGenerator.GetString("0123456789", CodeLength);
        var pending = attempt.Pending(Name, attempt.Now + Lifetime);
        pending = pending with
        {
            AnswerHash = CodeHash(tenant.Id, pending.Id, code),
            WorkPhoneHash = PhoneHash(tenant.Id, pending.Id, callerNow.Value.Details.WorkPhone!),
        };
        await store.CreatePendingAsync(pending, ct);
        attempt.Settle();
        await audit.CompleteAsync(started, AuditOutcome.Succeeded, null, ct);
        return VerificationStep.Challenge(pending) with { CallBackCode = code };
    }

    /// <summary>A call-back is decided by the code the agent types (<see cref="ConfirmAsync"/>); polling only notices that it ran out (V2).</summary>
    public Task<Outcome<PendingVerification>> PollAsync(AgentRequest request, PendingVerification pending, string callerId, CancellationToken ct) =>
        verdicts.ExpireAsync(request, pending, callerId, ResultAction, TimedOut, ct);

    /// <summary>
    /// What the person who answered the number on file said: the code (verified when it is this call-back's, else a
    /// failure counted against the caller), or that they never called the help desk (<paramref name="notMe"/>: an alarm,
    /// as someone called in their name). A call-back that ran out is only timed out.
    /// </summary>
    public async Task<Outcome<PendingVerification>> ConfirmAsync(AgentRequest request, PendingVerification pending, string callerId, string? spokenCode, bool notMe, CancellationToken ct)
    {
        var tenant = request.Tenant;
        if (notMe)
        {
            // Heard whenever the agent gets through, even after the ten minutes or a wrong code: someone called in the
            // name of whoever answers the number on file, and that is never dropped.
            if (pending.State == ChallengeState.Waiting && store.Now < pending.ExpiresAt)
            {
                return await verdicts.FailAsync(request, pending, callerId, ChallengeState.Rejected, ResultAction, NotMe, ct, alarm: true);
            }

            var ended = pending.State == ChallengeState.Waiting ? (await verdicts.ExpireAsync(request, pending, callerId, ResultAction, TimedOut, ct)).Value ?? pending : pending;
            return ended.State == ChallengeState.Approved || ended.FailureReason == NotMe
                ? ended
                : await verdicts.AlarmAfterEndAsync(request, ended, callerId, ResultAction, NotMe, ct);
        }

        if (pending.State != ChallengeState.Waiting)
        {
            return pending;
        }

        if (store.Now >= pending.ExpiresAt)
        {
            return await verdicts.ExpireAsync(request, pending, callerId, ResultAction, TimedOut, ct);
        }

        // What the start checked may have changed during the call: the mode switched on, the method switched off.
        var nowRefused = HeightenedThreat.Refuses(tenant, Name) ? HeightenedThreat.Code : IsOffered(tenant) ? null : "recovery_not_enabled";
        if (nowRefused is not null)
        {
            return await verdicts.FailAsync(request, pending, callerId, ChallengeState.Rejected, ResultAction, nowRefused, ct, alarm: false, countAgainstCaller: false);
        }

        var digits = new string((spokenCode ?? "").Where(c => !char.IsWhiteSpace(c) && c != '-').ToArray());
        if (digits.Length != CodeLength || !digits.All(char.IsAsciiDigit))
        {
            // A typo of the agent's, not the caller's failure: nothing is counted and the call-back still waits.
            return new Outcome<PendingVerification>(pending, new Refusal("malformed_code", $"The code is {CodeLength} digits. Ask who answered to say it again."));
        }

        // The number called must be the one on file when the call-back started: a number changed during a recovery call
        // is how someone holding the account would route the call-back to themselves.
        var callerNow = await directories.For(tenant).GetCallerAsync(callerId, ct);
        if (!callerNow.IsSuccess)
        {
            return new Outcome<PendingVerification>(pending, verdicts.IdpRefusal("caller", tenant, callerNow.Error));
        }

        // An account closed during the call (a leaver's, one the security team suspended) is not recovered by it.
        if (RecoveryChecks.Closed(callerNow.Value.Status) is { } closed)
        {
            return await verdicts.FailAsync(request, pending, callerId, ChallengeState.Rejected, ResultAction, closed.Code, ct, alarm: false, countAgainstCaller: false);
        }

        if (callerNow.Value.Details.WorkPhone is not { } phone || PhoneHash(tenant.Id, pending.Id, phone) != pending.WorkPhoneHash)
        {
            return await verdicts.FailAsync(request, pending, callerId, ChallengeState.Rejected, ResultAction, PhoneChanged, ct, alarm: true);
        }

        var expected = Encoding.ASCII.GetBytes(pending.AnswerHash ?? "");
        var heard = Encoding.ASCII.GetBytes(CodeHash(request.Tenant.Id, pending.Id, digits));
        return CryptographicOperations.FixedTimeEquals(expected, heard) && expected.Length > 0
            ? await verdicts.ApproveAsync(request, pending, callerId, ResultAction, ct)
            : await verdicts.FailAsync(request, pending, callerId, ChallengeState.Rejected, ResultAction, "wrong_code", ct, alarm: false);
    }

    /// <summary>The code shown to the agent, grouped for reading out (<c>482 913</c>).</summary>
    public static string Spoken(string code) => code.Length == CodeLength
        ? string.Create(CultureInfo.InvariantCulture, $"{code[..3]} {code[3..]}")
        : code;

    /// <summary>Who answered the number on file said they never called the help desk.</summary>
    public const string NotMe = "callback_not_me";

    /// <summary>The work phone on file changed between the start of the call-back and its confirmation.</summary>
    public const string PhoneChanged = "callback_phone_changed";

    private const string TimedOut = "callback_timed_out";

    /// <summary>Whether the work phone on file now is the one the call-back started with (the agent's page warns when not).</summary>
    public bool IsNumberAtStart(TenantSettings tenant, PendingVerification pending, string phone) => PhoneHash(tenant.Id, pending.Id, phone) == pending.WorkPhoneHash;

    /// <summary>The work phone as the pending call-back keeps it: digits only, keyed to the tenant and the challenge.</summary>
    private string PhoneHash(string tenantId, string pendingId, string phone) =>
        pseudonyms.HashValue(tenantId, "callback-phone", pendingId + ":" + new string([.. phone.Where(char.IsAsciiDigit)]));

    /// <summary>The code as the pending call-back keeps it: keyed to the tenant and the challenge, never in clear.</summary>
    private string CodeHash(string tenantId, string pendingId, string code) =>
        pseudonyms.HashValue(tenantId, "callback-code", pendingId + ":" + code);
}

/// <summary>What every recovery method checks of the caller's own account before anyone is asked anything.</summary>
public static class RecoveryChecks
{
    /// <summary>The refusal code of an account the organisation closed.</summary>
    public const string CallerInactive = "caller_inactive";

    /// <summary>
    /// A recovery brings back an account someone uses: never one the organisation closed (a leaver's, a suspended one).
    /// Null when the account may be recovered.
    /// </summary>
    public static Refusal? Closed(CallerStatus status) =>
        status is CallerStatus.Active or CallerStatus.LockedOut or CallerStatus.PasswordExpired or CallerStatus.Recovery
            ? null
            : new Refusal(CallerInactive, $"The caller's account is {StatusLabels.Name(status)}: it cannot be recovered at the help desk. Escalate to your security team.");
}

namespace Portal.Web.Verification;

/// <summary>The state of a challenge the agent started.</summary>
public enum ChallengeState
{
    Waiting,
    Approved,
    Rejected,
    TimedOut,
}

/// <summary>
/// A push the agent sent and is waiting on (<c>tenants/{t}/pendingVerifications</c>). It names the caller by
/// HMAC only; the caller's IdP id and the IdP's poll reference are kept encrypted, for the push's minutes of life.
/// </summary>
public sealed record PendingVerification
{
    public required string Id { get; init; }

    public required string TenantId { get; init; }

    public required string AgentSessionId { get; init; }

    public required string AgentSubject { get; init; }

    public required string CallerIdHash { get; init; }

    public required string CallerMaskedLogin { get; init; }

    public required string CallerRefProtected { get; init; }

    public required string Method { get; init; }

    /// <summary>The number the caller must pick; the agent reads it out. Worthless without the caller's device.</summary>
    public required int CorrectAnswer { get; init; }

    public required string PollRefProtected { get; init; }

    public required ChallengeState State { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    public required DateTimeOffset ExpiresAt { get; init; }

    public string? VerificationSessionId { get; init; }

    /// <summary>The masked login of the agent who started it, for the audit of steps the caller takes (step-up).</summary>
    public string? AgentMaskedLogin { get; init; }

    /// <summary>Why a step-up was refused, as a code the agent's page explains; null otherwise.</summary>
    public string? FailureReason { get; init; }

    /// <summary>
    /// The attempt reserved in the caller's counters when the challenge was sent (V4): it already counts as a
    /// failure, so its end only refunds it (approved) or adds the alarm (rejected). Null for a step-up.
    /// </summary>
    public string? AttemptReservationId { get; init; }

    /// <summary>
    /// For manager approval (<c>recovery.manager</c>): the IdP id of the manager whose device the push went to, kept
    /// encrypted for the push's minutes of life like <see cref="CallerRefProtected"/>; null for every other method.
    /// </summary>
    public string? ApproverRefProtected { get; init; }

    /// <summary>
    /// For a call-back (<c>recovery.callback</c>): the one-time code the agent read out, as a hash keyed to the tenant and
    /// this challenge; the code itself is never stored. Null for every other method.
    /// </summary>
    public string? AnswerHash { get; init; }

    /// <summary>
    /// For a call-back: the work phone on file when it started, digits only, as a hash keyed to the tenant and this
    /// challenge; a confirmation is refused when the number on file is no longer the same. Null for every other method.
    /// </summary>
    public string? WorkPhoneHash { get; init; }

    /// <summary>
    /// When some instance last asked the IdP how this push went. Every tab and instance polls, but only the one
    /// that moves this forward (atomically, at most every <c>VerificationStore.PushPollInterval</c>) calls the IdP;
    /// the others read the shared state from this document.
    /// </summary>
    public DateTimeOffset? LastPolledAt { get; init; }

    /// <summary>
    /// For a second method (docs/tenancy.md, "Executive targets: two independent methods"): the live verification of the
    /// same caller, by the same agent session, that this one follows, and its method; null for a first verification.
    /// </summary>
    public string? PriorVerificationId { get; init; }

    /// <summary>The method of <see cref="PriorVerificationId"/>, always different from <c>Method</c>; null without it.</summary>
    public string? PriorMethod { get; init; }
}

/// <summary>
/// A verified caller (<c>tenants/{t}/verificationSessions</c>): bound to tenant + agent session + agent +
/// caller + method, expiring, and each action type usable once (docs/security-requirements.md V5).
/// </summary>
public sealed record VerificationSession
{
    public required string Id { get; init; }

    public required string TenantId { get; init; }

    public required string AgentSessionId { get; init; }

    public required string AgentSubject { get; init; }

    public required string CallerIdHash { get; init; }

    public required string CallerMaskedLogin { get; init; }

    public required string CallerRefProtected { get; init; }

    public required string Method { get; init; }

    public required DateTimeOffset VerifiedAt { get; init; }

    public required DateTimeOffset ExpiresAt { get; init; }

    public IReadOnlyList<string> UsedActions { get; init; } = [];

    /// <summary>The call's ticket reference, from the first action that gave one: every later action is prefilled with it.</summary>
    public string? TicketRef { get; init; }

    /// <summary>What each action of this verification came to, in order, for the call summary the agent copies into the ticket.</summary>
    public IReadOnlyList<ActionDone> Done { get; init; } = [];

    /// <summary>
    /// For a second method (docs/tenancy.md, "Executive targets: two independent methods"): the live verification of the
    /// same caller, by the same agent session, that this one follows, and its method; null for a first verification.
    /// </summary>
    public string? PriorVerificationId { get; init; }

    /// <summary>The method of <see cref="PriorVerificationId"/>, always different from <c>Method</c>; null without it.</summary>
    public string? PriorMethod { get; init; }
}

/// <summary>One action of a verification and how it ended (<c>succeeded</c>, <c>partial</c> or <c>failed</c>), for the call summary.</summary>
public sealed record ActionDone(string Action, string Outcome, DateTimeOffset At);

/// <summary>
/// Per-caller counters that must hold across instances (<c>tenants/{t}/callerCounters/{callerIdHash}</c>):
/// failed attempts in a row and the cool-down they cause (V4), recent pushes (push-bombing), and the
/// alarm after a rejected push or "not me" (V6).
/// </summary>
public sealed record CallerCounters
{
    public int FailuresInRow { get; init; }

    public int TotalFailures { get; init; }

    public DateTimeOffset? CooldownUntil { get; init; }

    public DateTimeOffset? AlarmUntil { get; init; }

    public IReadOnlyList<DateTimeOffset> RecentPushes { get; init; } = [];

    /// <summary>The reserved attempt whose charge started the current cool-down; refunding it lifts the cool-down.</summary>
    public string? CooldownStartedBy { get; init; }

    /// <summary>
    /// The caller's ID verification that holds the caller's one place (docs/recovery.md), until its own end: a second
    /// one is not started while it waits, as one check at the IdP would satisfy both.
    /// </summary>
    public string? IdvWaitingId { get; init; }

    public DateTimeOffset? IdvWaitingUntil { get; init; }
}

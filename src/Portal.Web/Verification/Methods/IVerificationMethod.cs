using Portal.Audit;
using Portal.Idp;
using Portal.Web.Agents;
using Portal.Web.Platform;
using Portal.Web.Tenancy;

namespace Portal.Web.Verification.Methods;

/// <summary>
/// One way of verifying a caller: Okta push, TOTP, Entra push, step-up sign-in (docs/architecture.md, "Verification
/// methods"). <see cref="VerificationService.StartAsync"/> does what every start shares, in this order, and audits each
/// refusal: it reads the caller reference of the form, asks the method whether the request is well formed, reads the
/// caller's factors again (V1), asks the method whether one of them is what the form names, and reserves an attempt in
/// the caller's counters (V4). Only then does the method send its challenge.
/// </summary>
public interface IVerificationMethod
{
    /// <summary>The method's name as a challenge and a verification store it and the audit records it (<see cref="VerificationMethods"/>).</summary>
    string Name { get; }

    /// <summary>Whether a challenge also counts against the caller's push limit (push-bombing, V4).</summary>
    bool IsPush { get; }

    /// <summary>The audit action of a start, refused or sent.</summary>
    string StartAction { get; }

    /// <summary>A refusal of the request itself before the IdP is asked anything (a malformed code, the method not set up); null when it may go on.</summary>
    Refusal? CheckRequest(TenantSettings tenant, string? answer);

    /// <summary>Whether the caller can be challenged this way, from the factors the IdP lists now (never the form's word); null when they can.</summary>
    Refusal? CheckFactor(TenantSettings tenant, IReadOnlyList<CallerFactor> factors, string factorId);

    /// <summary>Sends the challenge of an attempt the caller's counters allowed and charged (<see cref="VerificationAttempt.ReservationId"/>).</summary>
    Task<Outcome<VerificationStep>> StartAsync(VerificationAttempt attempt, CancellationToken ct);

    /// <summary>What a waiting challenge of this method has come to when the agent's page asks (V2: none outlives its expiry).</summary>
    Task<Outcome<PendingVerification>> PollAsync(AgentRequest request, PendingVerification pending, string callerId, CancellationToken ct);
}

/// <summary>
/// The caller a verification is about: the IdP's id (in memory only; stored encrypted as <see cref="RefAtRest"/>), its
/// tenant-keyed hash (what counters, stores and the audit name) and the masked login the agent sees.
/// </summary>
public sealed record CallerBinding(string Id, string IdHash, string MaskedLogin, string RefAtRest)
{
    public override string ToString() => $"CallerBinding {{ IdHash = {IdHash} }}";
}

/// <summary>A start that passed the shared checks: the caller, the factor, what the agent typed, and the attempt reserved for it.</summary>
public sealed record VerificationAttempt(AgentRequest Request, CallerBinding Caller, string FactorId, string? Answer, string ReservationId, AuditEntry Entry, DateTimeOffset Now)
{
    /// <summary>The live verification this one is the second method of (checked by <see cref="VerificationService.StartAsync"/>); null for a first.</summary>
    public PriorVerification? Prior { get; init; }

    /// <summary>
    /// Whether the reserved attempt has an owner: a challenge stored with it (its end settles it), or the method settled
    /// it itself (given back, or kept as a failure). A start that throws before then gives it back
    /// (<see cref="VerificationService.StartAsync"/>), so an outage of the audit or the store never costs the caller.
    /// </summary>
    public bool Settled { get; private set; }

    /// <summary>Marks the reserved attempt as owned (see <see cref="Settled"/>).</summary>
    public void Settle() => Settled = true;

    /// <summary>
    /// The waiting challenge of this attempt, as every method stores it: bound to the agent session and agent that sent
    /// it, naming the caller by hash, charged to <see cref="ReservationId"/>.
    /// </summary>
    public PendingVerification Pending(string method, DateTimeOffset expiresAt, int correctAnswer = 0, string pollRefAtRest = "") => new()
    {
        Id = PortalIds.New(),
        TenantId = Request.Tenant.Id,
        AgentSessionId = Request.Agent.SessionId,
        AgentSubject = Request.Agent.Subject,
        AgentMaskedLogin = Request.Agent.MaskedLogin,
        CallerIdHash = Caller.IdHash,
        CallerMaskedLogin = Caller.MaskedLogin,
        CallerRefProtected = Caller.RefAtRest,
        Method = method,
        CorrectAnswer = correctAnswer,
        PollRefProtected = pollRefAtRest,
        State = ChallengeState.Waiting,
        CreatedAt = Now,
        // A second method's challenge never outlives the verification it follows (docs/tenancy.md, "Executive targets"):
        // past the first's end the pair acts on nothing, so an agent would wait for a result that opens nothing.
        ExpiresAt = Prior?.Until is { } until && until < expiresAt ? until : expiresAt,
        AttemptReservationId = ReservationId,
        PriorVerificationId = Prior?.Id,
        PriorMethod = Prior?.Method,
    };

    public override string ToString() => $"VerificationAttempt {{ Caller = {Caller}, FactorId = {FactorId} }}";
}

/// <summary>
/// The verification a second method follows (docs/tenancy.md, "Executive targets: two independent methods"): its id and
/// method, carried by the challenge and the verification the second method opens.
/// </summary>
public sealed record PriorVerification(string Id, string Method)
{
    /// <summary>When the prior verification ends, as read at the second start; null when only its id and method are known (<see cref="Of"/>).</summary>
    public DateTimeOffset? Until { get; init; }

    /// <summary>The prior a challenge carries, or null for a first verification.</summary>
    public static PriorVerification? Of(PendingVerification pending) =>
        pending.PriorVerificationId is { } id && pending.PriorMethod is { } method ? new(id, method) : null;

    /// <summary>The token that names a prior in an audit reason: <c>prior:{verification id}</c> (an id, never the caller).</summary>
    public const string ReasonToken = "prior:";

    /// <summary>
    /// The reason of the record that opens a verification: <paramref name="reason"/>, followed for a second method by the
    /// verification it follows (<c>approved prior:{id}</c>, or <c>prior:{id}</c> alone), so that an auditor sees from the
    /// record itself that two verifications by different methods stood behind it (V13).
    /// </summary>
    public static string? OpenedReason(string? reason, PriorVerification? prior) =>
        prior is null ? reason : string.Join(' ', new[] { reason, ReasonToken + prior.Id }.Where(part => !string.IsNullOrEmpty(part)));
}

/// <summary>
/// Where a start leaves the agent: at a verification session (<see cref="SessionId"/>, the caller is verified), or at
/// a challenge's page (<see cref="Pending"/>: waiting, or ended without a verification). A step-up also carries the
/// link and short code the agent reads out once (<see cref="StepUp"/>).
/// </summary>
public sealed record VerificationStep(PendingVerification? Pending, string? SessionId)
{
    public StepUp.StepUpStarted? StepUp { get; init; }

    /// <summary>
    /// An Entra manager approval's short code (<see cref="ManagerApprovalMethod"/>), read out to the manager; the link it
    /// opens went to the manager by e-mail and is never shown to the agent.
    /// </summary>
    public string? ManagerCode { get; init; }

    /// <summary>A call-back's one-time code (<see cref="CallBackMethod"/>), shown to the agent once and never stored.</summary>
    public string? CallBackCode { get; init; }

    public override string ToString() => $"VerificationStep {{ Pending = {Pending?.Id}, SessionId = [redacted] }}";

    public static VerificationStep Verified(string sessionId) => new(null, sessionId);

    public static VerificationStep Challenge(PendingVerification pending) => new(pending, pending.VerificationSessionId);
}

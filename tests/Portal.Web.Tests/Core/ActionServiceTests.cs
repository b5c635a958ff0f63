using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Portal.Audit;
using Portal.Idp;
using Portal.Storage;
using Portal.Web.Agents;
using Portal.Web.Platform;
using Portal.Web.Tenancy;
using Portal.Web.Verification;
using Portal.Web.Verification.Actions;

namespace Portal.Web.Tests.Core;

/// <summary>
/// Every way <see cref="ActionService"/> refuses an action, and the audit record each refusal leaves (A3, V5, V7, D3),
/// over the real store and audit trail with an IdP directory that records what it was asked.
/// </summary>
public sealed class ActionServiceTests : IDisposable
{
    private const string Tenant = "acme";
    private const string CallerId = "00u-caller-1";
    private const string CallerLogin = "j***@e***.com";

    private static readonly AgentContext Agent = new(Tenant, "0123456789abcdef0123456789abcdef", "agent-sub-1", "a***@h***.example", []);
    private static readonly AgentContext OtherAgent = new(Tenant, "fedcba9876543210fedcba9876543210", "agent-sub-2", "b***@h***.example", []);

    private readonly CoreStore _core = new();
    private readonly VerificationStore _store;
    private readonly ApprovalStore _approvals;
    private readonly CallerReferences _references = new(new EphemeralDataProtectionProvider());
    private readonly FakeDirectory _directory = new();
    private readonly RecordingUsage _usage = new();
    private readonly RecordingAlerts _alerts = new();
    private readonly TenantSettings _tenant = new() { Id = Tenant, Idp = new TenantIdpSettings { Kind = IdpKind.Okta, BaseUrl = "https://acme.okta.example", ApiTokenSecret = "env:TOKEN" } };
    private readonly TenantDirectories _directories;
    private readonly ActionService _service;
    private readonly List<string> _performedOn = [];

    public ActionServiceTests()
    {
        _store = new VerificationStore(_core.Documents, _core.Clock);
        _approvals = new ApprovalStore(_core.Documents, _core.Clock);
        var factory = new FakeDirectoryFactory(_directory);
        _directories = new TenantDirectories(factory, factory, new NoEntraPush(), new TenantSecrets(new FakeSecrets(), _core.Clock), new TenantConnectionReports());
        _service = ServiceWith(_core.Audit);
    }

    private ActionService ServiceWith(IAuditTrail audit) =>
        new(_directories, _store, _references, audit, _approvals, _usage, NoNotices.Instance, _alerts, NullLogger<ActionService>.Instance);

    public void Dispose() => _core.Dispose();

    private static readonly RequestContext Origin = new("req-1", null, "203.0.113.9", "", new Uri("https://portal.example/"));

    private async Task<string> VerifiedAsync(string method = VerificationMethods.OktaPush, AgentContext? agent = null, TimeSpan? documentLifetime = null, string? callerRef = null, string? priorId = null, string? priorMethod = null, TimeSpan? lifetime = null)
    {
        agent ??= Agent;
        var session = new VerificationSession
        {
            Id = PortalIds.New(),
            TenantId = Tenant,
            AgentSessionId = agent.SessionId,
            AgentSubject = agent.Subject,
            CallerIdHash = _core.Pseudonyms.HashCallerId(Tenant, CallerId),
            CallerMaskedLogin = CallerLogin,
            CallerRefProtected = callerRef ?? _references.AtRest(Tenant, CallerId),
            Method = method,
            VerifiedAt = _core.Clock.GetUtcNow(),
            ExpiresAt = _core.Clock.GetUtcNow() + (lifetime ?? TimeSpan.FromMinutes(10)),
            PriorVerificationId = priorId,
            PriorMethod = priorMethod,
        };

        // The document may be kept longer than the verification lasts, as a store's expiry may lag.
        var key = new DocumentKey(CollectionPath.ForTenant(Tenant, "verificationSessions"), session.Id);
        Assert.True(await _core.Documents.CreateAsync(key, DocumentJson.ToDocument(session), session.ExpiresAt + (documentLifetime ?? TimeSpan.Zero)));
        return session.Id;
    }

    /// <summary>The action's outcome and the HTTP status the web edge answers it with (<see cref="Refusal.HttpStatus"/>).</summary>
    private async Task<(ActionOutcome? Outcome, Refusal? Refusal, int Status)> RunAsync(string verificationId, CallerAction? action = null, AgentContext? agent = null, Func<IdpResult<ActionOutcome>>? result = null, ActionService? service = null)
    {
        var (outcome, refusal) = await RunOutcomeAsync(verificationId, action, agent, result, service);
        return (outcome, refusal, refusal?.HttpStatus ?? StatusCodes.Status200OK);
    }

    private Task<Outcome<ActionOutcome>> RunOutcomeAsync(string verificationId, CallerAction? action, AgentContext? agent, Func<IdpResult<ActionOutcome>>? result, ActionService? service = null) =>
        (service ?? _service).RunAsync(new AgentRequest(agent ?? Agent, _tenant, Origin), action ?? CallerAction.PasswordReset, VerificationId.TryParse(verificationId, out var parsed) ? parsed : null, "INC-7", (directory, callerId, _) =>
        {
            Assert.Same(_directory, directory);
            _performedOn.Add(callerId);
            return Task.FromResult(result?.Invoke() ?? IdpResult<ActionOutcome>.Success(new ActionOutcome(true, "Done.") { AuditReason = "link_sent" }));
        }, CancellationToken.None);

    private async Task<AuditRecord> SingleAuditAsync(string action)
    {
        var records = (await _core.AuditRecordsAsync(Tenant)).Where(r => r.Action == action).ToList();
        return Assert.Single(records);
    }

    private async Task AssertRefusedAsync((ActionOutcome? Outcome, Refusal? Refusal, int Status) run, string code, string action = "action.password_reset")
    {
        Assert.Null(run.Outcome);
        Assert.Equal(code, run.Refusal?.Code);
        Assert.Equal(StatusCodes.Status403Forbidden, run.Status);
        Assert.Empty(_performedOn);
        Assert.Empty(_usage.Actions);
        var record = await SingleAuditAsync(action);
        Assert.Equal(AuditOutcome.Denied, record.Outcome);
        Assert.Equal(code, record.Reason);
        Assert.Equal("agent-sub-1", record.Agent.SubjectId);
        Assert.Equal("INC-7", record.TicketRef);
    }

    [Fact]
    public async Task Success_PerformsOnTheVerifiedCaller_AuditsBeforeAndAfter_MetersTheAction()
    {
        var id = await VerifiedAsync();
        var (outcome, refusal, status) = await RunAsync(id);

        Assert.Null(refusal);
        Assert.Equal(StatusCodes.Status200OK, status);
        Assert.True(outcome!.Succeeded);
        Assert.Equal([CallerId], _performedOn);
        var record = await SingleAuditAsync("action.password_reset");
        Assert.Equal(AuditOutcome.Succeeded, record.Outcome);
        Assert.Equal("link_sent", record.Reason);
        Assert.Equal(VerificationMethods.OktaPush, record.Method);
        Assert.Equal(CallerLogin, record.Caller!.MaskedLogin);
        Assert.Equal(_core.Pseudonyms.HashCallerId(Tenant, CallerId), record.Caller.IdHash);
        Assert.Equal("INC-7", record.TicketRef);
        Assert.Equal("203.0.113.0/24", record.ClientNet);
        Assert.NotNull(record.CompletedAt);
        Assert.Equal([("password_reset", AuditOutcome.Succeeded)], _usage.Actions);
        Assert.Equal(["password_reset"], (await _store.GetSessionAsync(Tenant, id, CancellationToken.None))!.UsedActions);
    }

    [Fact]
    public async Task PartialSuccess_AuditedAsPartial()
    {
        var id = await VerifiedAsync();
        var (outcome, _, status) = await RunAsync(id, result: () => IdpResult<ActionOutcome>.Success(new ActionOutcome(true, "Some.") { AuditAs = AuditOutcome.Partial, AuditReason = "removed:push" }));
        Assert.True(outcome!.IsPartial);
        Assert.Equal(StatusCodes.Status200OK, status);
        var record = await SingleAuditAsync("action.password_reset");
        Assert.Equal(AuditOutcome.Partial, record.Outcome);
        Assert.Equal("removed:push", record.Reason);
        Assert.Equal([("password_reset", AuditOutcome.Partial)], _usage.Actions);
    }

    [Fact]
    public async Task NoVerification_UnknownId_Refused()
    {
        await AssertRefusedAsync(await RunAsync(PortalIds.New()), "no_verification");
        Assert.Null((await SingleAuditAsync("action.password_reset")).Caller);
    }

    [Fact]
    public async Task AnotherAgentsVerification_Refused()
    {
        var theirs = await VerifiedAsync(agent: OtherAgent);
        await AssertRefusedAsync(await RunAsync(theirs), "no_verification");
        Assert.Empty((await _store.GetSessionAsync(Tenant, theirs, CancellationToken.None))!.UsedActions);
    }

    [Fact]
    public async Task SameSubjectInAnotherAgentSession_Refused()
    {
        var theirs = await VerifiedAsync(agent: Agent with { SessionId = OtherAgent.SessionId });
        await AssertRefusedAsync(await RunAsync(theirs), "no_verification");
    }

    [Fact]
    public async Task AnotherSubjectInTheSameAgentSession_Refused()
    {
        var theirs = await VerifiedAsync(agent: Agent with { Subject = OtherAgent.Subject });
        await AssertRefusedAsync(await RunAsync(theirs), "no_verification");
    }

    [Fact]
    public async Task UnreadableCallerReference_Refused()
    {
        var id = await VerifiedAsync(callerRef: "not-a-protected-value");
        await AssertRefusedAsync(await RunAsync(id), "unreadable_verification");
        Assert.Equal(CallerLogin, (await SingleAuditAsync("action.password_reset")).Caller!.MaskedLogin);
    }

    [Fact]
    public async Task TotpVerification_NotEnoughForTemporaryAccess_TheRefusalSaysWhatIs()
    {
        var id = await VerifiedAsync(VerificationMethods.OktaTotp);
        var run = await RunAsync(id, CallerAction.TemporaryAccess);
        await AssertRefusedAsync(run, "method_insufficient", "action.tap_issue");
        Assert.Equal(
            "Issue temporary access code needs a stronger verification: your organisation accepts a push with number matching, a step-up sign-in, the caller's manager's approval or an ID verification through Okta for it.",
            run.Refusal!.Message);
        Assert.Equal(VerificationMethods.OktaTotp, (await SingleAuditAsync("action.tap_issue")).Method);
    }

    [Fact]
    public async Task TenantPolicy_SetsTheMethodsAnActionAccepts()
    {
        _tenant.ActionMethods["password_reset"] = [VerificationMethods.OidcStepUp, VerificationMethods.EntraPush, VerificationMethods.OktaTotp];
        _tenant.ActionMethods["account_unlock"] = [];
        var push = await VerifiedAsync(VerificationMethods.OktaPush);
        var run = await RunAsync(push);
        await AssertRefusedAsync(run, "method_insufficient");
        Assert.EndsWith("accepts a step-up sign-in, an Authenticator push or an authenticator code for it.", run.Refusal!.Message);

        // An empty list in a policy is no policy: the default stands.
        Assert.Equal(CallerAction.Unlock.AcceptedMethods, CallerAction.Unlock.AcceptedMethodsFor(_tenant));
        Assert.Equal([VerificationMethods.OidcStepUp, VerificationMethods.EntraPush, VerificationMethods.OktaTotp], CallerAction.PasswordReset.AcceptedMethodsFor(_tenant));
    }

    [Fact]
    public async Task CallerUnderAlarm_Refused_AuditedAsCallerAlarm()
    {
        var id = await VerifiedAsync();
        await _store.RaiseAlarmAsync(Tenant, _core.Pseudonyms.HashCallerId(Tenant, CallerId), new VerificationPolicySettings(), CancellationToken.None);
        var run = await RunAsync(id);
        await AssertRefusedAsync(run, "caller_alarm");
        Assert.Empty((await _store.GetSessionAsync(Tenant, id, CancellationToken.None))!.UsedActions);
    }

    [Fact]
    public async Task CallerAtTheFailureCap_Refused()
    {
        var id = await VerifiedAsync();
        var policy = new VerificationPolicySettings { MaxFailuresBeforeCooldown = 10, CooldownMinutes = 1 };
        for (var i = 0; i < VerificationStore.MaxTotalFailures; i++)
        {
            await _store.RecordFailureAsync(Tenant, _core.Pseudonyms.HashCallerId(Tenant, CallerId), alarm: false, policy, CancellationToken.None);
        }

        var run = await RunAsync(id);
        Assert.Equal("failure_limit", run.Refusal!.Code);
        Assert.Equal(StatusCodes.Status403Forbidden, run.Status);
        Assert.Empty(_performedOn);
        // The audit names the gate the agent was shown, not an alarm there was none of.
        Assert.Equal("failure_limit", (await SingleAuditAsync("action.password_reset")).Reason);
    }

    [Fact]
    public async Task CallerCoolingDown_ActionsStillAllowed()
    {
        var id = await VerifiedAsync();
        await _store.RecordFailureAsync(Tenant, _core.Pseudonyms.HashCallerId(Tenant, CallerId), alarm: false, new VerificationPolicySettings { MaxFailuresBeforeCooldown = 1 }, CancellationToken.None);
        Assert.Equal(StatusCodes.Status200OK, (await RunAsync(id)).Status);
    }

    [Fact]
    public async Task SameActionTwice_SecondRefused_AuditedAsVerificationUsed()
    {
        var id = await VerifiedAsync();
        Assert.Equal(StatusCodes.Status200OK, (await RunAsync(id)).Status);
        _performedOn.Clear();
        _usage.Actions.Clear();

        var (outcome, refusal, status) = await RunAsync(id);
        Assert.Null(outcome);
        Assert.Equal(StatusCodes.Status403Forbidden, status);
        Assert.Equal("verification_used", refusal!.Code);
        Assert.Equal("Reset password was already done in this verification. Verify the caller again to repeat it.", refusal.Message);
        Assert.Empty(_performedOn);
        Assert.Empty(_usage.Actions);
        var records = (await _core.AuditRecordsAsync(Tenant)).Where(r => r.Action == "action.password_reset").ToList();
        Assert.Equal(2, records.Count);
        var refused = Assert.Single(records, r => r.Outcome == AuditOutcome.Denied);
        Assert.Equal("verification_used", refused.Reason);
        Assert.NotNull(refused.CompletedAt);
    }

    [Fact]
    public async Task VerificationExpiredBetweenReadAndConsume_Refused_AuditedAsVerificationExpired()
    {
        // The verification document outlives the verification (a store's expiry may lag): the consume still refuses it.
        var id = await VerifiedAsync(documentLifetime: TimeSpan.FromMinutes(5));
        _core.Clock.Advance(TimeSpan.FromMinutes(10));

        var (outcome, refusal, status) = await RunAsync(id);
        Assert.Null(outcome);
        Assert.Equal(StatusCodes.Status403Forbidden, status);
        Assert.Equal("verification_expired", refusal!.Code);
        Assert.Equal("This verification has expired. Verify the caller again.", refusal.Message);
        Assert.Empty(_performedOn);
        var record = await SingleAuditAsync("action.password_reset");
        Assert.Equal(AuditOutcome.Denied, record.Outcome);
        Assert.Equal("verification_expired", record.Reason);
    }

    [Fact]
    public async Task VerificationOneTickBeforeExpiry_Runs()
    {
        var id = await VerifiedAsync();
        _core.Clock.Advance(TimeSpan.FromMinutes(10) - TimeSpan.FromTicks(1));
        Assert.Equal(StatusCodes.Status200OK, (await RunAsync(id)).Status);
        Assert.Equal([CallerId], _performedOn);
    }

    [Fact]
    public async Task IdpRefuses_502_AuditedAsFailedWithItsCode_NotMetered()
    {
        var id = await VerifiedAsync();
        var (outcome, refusal, status) = await RunAsync(id, result: () => new IdpError(IdpErrorKind.AccessDenied, "idp_denied", "The IdP refused."));
        Assert.Null(outcome);
        Assert.Equal(StatusCodes.Status502BadGateway, status);
        Assert.Equal(new Refusal("idp_denied", "The IdP refused.", RefusalKind.IdpFailed), refusal);
        var record = await SingleAuditAsync("action.password_reset");
        Assert.Equal(AuditOutcome.Failed, record.Outcome);
        Assert.Equal("idp_denied", record.Reason);
        Assert.Empty(_usage.Actions);

        // A refusal is a known outcome: nothing happened, so no alarm.
        Assert.Empty(_alerts.Raised);
    }

    [Fact]
    public async Task IdpUnreachable_502_OutcomeUnknown()
    {
        var id = await VerifiedAsync();
        var (outcome, refusal, status) = await RunAsync(id, result: () => throw new HttpRequestException("down"));
        Assert.Null(outcome);
        Assert.Equal(StatusCodes.Status502BadGateway, status);
        Assert.Equal("unreachable", refusal!.Code);
        Assert.Contains("outcome is unknown", refusal.Message, StringComparison.Ordinal);
        Assert.Equal("unreachable", (await SingleAuditAsync("action.password_reset")).Reason);

        // The reset may have happened: the security team gets the alarm (WebhookOutcomeUnknownTests receives it over HTTP).
        var alert = Assert.Single(_alerts.Raised);
        Assert.Equal(ActionService.OutcomeUnknownAlertType, alert.Type);
        Assert.Equal("password_reset unreachable", alert.Reason);
        Assert.Equal(Agent.Subject, alert.AgentSubject);
    }

    [Fact]
    public async Task IdpCalled_OnlyOnceTheRecordIsPending_AndTheVerificationIsUsedForTheAction()
    {
        // D3: no IdP call without its audit record. V5: the verification is used before the call, in one atomic update,
        // so a second request for the same action (another tab, another instance) finds it used and never reaches the IdP.
        var id = await VerifiedAsync();
        AuditRecord? recordAtCall = null;
        IReadOnlyList<string>? usedAtCall = null;
        var (outcome, refusal) = await _service.RunAsync(new AgentRequest(Agent, _tenant, Origin), CallerAction.PasswordReset, TestIds.Verification(id), "INC-7", async (_, callerId, ct) =>
        {
            recordAtCall = await SingleAuditAsync("action.password_reset");
            usedAtCall = (await _store.GetSessionAsync(Tenant, id, ct))!.UsedActions;
            return IdpResult<ActionOutcome>.Success(new ActionOutcome(true, "Done."));
        }, CancellationToken.None);

        Assert.Null(refusal);
        Assert.True(outcome!.Succeeded);
        Assert.Equal(AuditOutcome.Pending, recordAtCall!.Outcome);
        Assert.Null(recordAtCall.CompletedAt);
        Assert.Equal(["password_reset"], usedAtCall);
    }

    [Fact]
    public async Task AuditUnwritable_NothingDoneAtTheIdp_TheVerificationStaysUnused()
    {
        // D3: if the record cannot be written, the action does not happen, and the verification is not spent on it.
        var id = await VerifiedAsync();
        await Assert.ThrowsAsync<AuditUnavailableException>(() => RunAsync(id, service: ServiceWith(new BrokenAudit(_core.Audit) { FailBegin = true })));

        Assert.Empty(_performedOn);
        Assert.Empty(_usage.Actions);
        Assert.Empty((await _store.GetSessionAsync(Tenant, id, CancellationToken.None))!.UsedActions);
        Assert.Empty(await _core.AuditRecordsAsync(Tenant));
    }

    [Fact]
    public async Task AuditUncompletable_AfterTheIdpCall_TheAgentStillGetsTheOutcome_TheRecordStaysPending()
    {
        // The IdP call happened: the agent gets its result (and any one-time secret); the record says "outcome unknown".
        var id = await VerifiedAsync();
        var (outcome, refusal, status) = await RunAsync(id, service: ServiceWith(new BrokenAudit(_core.Audit) { FailComplete = true }));

        Assert.Null(refusal);
        Assert.Equal(StatusCodes.Status200OK, status);
        Assert.True(outcome!.Succeeded);
        Assert.Equal([CallerId], _performedOn);
        var record = await SingleAuditAsync("action.password_reset");
        Assert.Equal(AuditOutcome.Pending, record.Outcome);
        Assert.Null(record.CompletedAt);
        Assert.Equal([("password_reset", AuditOutcome.Succeeded)], _usage.Actions);
        Assert.Equal("succeeded", Assert.Single((await _store.GetSessionAsync(Tenant, id, CancellationToken.None))!.Done).Outcome);
    }

    [Fact]
    public async Task CallSummary_NotesEachOutcome_AFailedIdpCallStillUsesTheVerification()
    {
        var id = await VerifiedAsync();
        await RunAsync(id);
        await RunAsync(id, CallerAction.Unlock, result: () => new IdpError(IdpErrorKind.AccessDenied, "idp_denied", "The IdP refused."));
        await RunAsync(id, CallerAction.RevokeSessions, result: () => IdpResult<ActionOutcome>.Success(new ActionOutcome(true, "Some.") { AuditAs = AuditOutcome.Partial }));

        var session = (await _store.GetSessionAsync(Tenant, id, CancellationToken.None))!;
        Assert.Equal([("password_reset", "succeeded"), ("account_unlock", "failed"), ("sessions_revoke", "partial")], session.Done.Select(d => (d.Action, d.Outcome)));
        Assert.Equal(["password_reset", "account_unlock", "sessions_revoke"], session.UsedActions);

        // What a failed call did at the IdP is not known for sure: repeating it takes a new verification.
        _performedOn.Clear();
        Assert.Equal("verification_used", (await RunAsync(id, CallerAction.Unlock)).Refusal!.Code);
        Assert.Empty(_performedOn);
    }

    [Fact]
    public async Task RefusalsBeforeActing_InOrder_NoLaterCheckAsked_TheVerificationLeftUnused()
    {
        // A privileged caller under alarm: an unreadable verification is refused first, then a method the action does not
        // accept, then the alarm, and none of them asks the IdP who the caller is or queues an approval.
        _tenant.PrivilegedGroups = ["Helpdesk Admins"];
        _directory.Groups = () => IdpResult<IReadOnlyList<string>>.Success(["Helpdesk Admins"]);
        await _store.RaiseAlarmAsync(Tenant, _core.Pseudonyms.HashCallerId(Tenant, CallerId), new VerificationPolicySettings(), CancellationToken.None);
        var unreadable = await VerifiedAsync(VerificationMethods.OktaTotp, callerRef: "not-a-protected-value");
        var totp = await VerifiedAsync(VerificationMethods.OktaTotp);
        var push = await VerifiedAsync();

        Assert.Equal("unreadable_verification", (await RunAsync(unreadable, CallerAction.TemporaryAccess)).Refusal!.Code);
        Assert.Equal("method_insufficient", (await RunAsync(totp, CallerAction.TemporaryAccess)).Refusal!.Code);
        Assert.Equal("caller_alarm", (await RunAsync(push, CallerAction.TemporaryAccess)).Refusal!.Code);

        Assert.Empty(_directory.RoleLookups);
        Assert.Empty(_directory.GroupLookups);
        Assert.Empty(await _approvals.PendingAsync(Tenant, CancellationToken.None));
        Assert.Empty(_performedOn);
        foreach (var id in new[] { unreadable, totp, push })
        {
            Assert.Empty((await _store.GetSessionAsync(Tenant, id, CancellationToken.None))!.UsedActions);
        }

        var records = await _core.AuditRecordsAsync(Tenant);
        Assert.All(records, r => Assert.Equal(("action.tap_issue", AuditOutcome.Denied), (r.Action, r.Outcome)));
        Assert.Equal(["caller_alarm", "method_insufficient", "unreadable_verification"], records.Select(r => r.Reason).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task PrivilegedCaller_NeedsASecondAgentsApproval_RequestedOnce()
    {
        _tenant.PrivilegedGroups = ["Helpdesk Admins"];
        _directory.Groups = () => IdpResult<IReadOnlyList<string>>.Success(["Everyone", "helpdesk admins"]);
        var id = await VerifiedAsync();

        var (outcome, refusal, status) = await RunAsync(id);
        Assert.Null(outcome);
        Assert.Equal(StatusCodes.Status403Forbidden, status);
        Assert.Equal("approval_required", refusal!.Code);
        Assert.Empty(_performedOn);
        Assert.Equal([CallerId], _directory.GroupLookups);
        var requested = await _approvals.GetAsync(Tenant, ApprovalStore.IdFor(TestIds.Verification(id), "password_reset"), CancellationToken.None);
        Assert.NotNull(requested);
        Assert.Equal(ApprovalState.Pending, requested.State);
        Assert.Equal(Agent.Subject, requested.RequesterSubject);
        Assert.Equal(Agent.MaskedLogin, requested.RequesterMaskedLogin);
        Assert.Equal(id, requested.VerificationId);
        Assert.Equal("password_reset", requested.Action);
        Assert.Equal(CallerAction.PasswordReset.Permission, requested.Permission);
        Assert.Equal(CallerLogin, requested.CallerMaskedLogin);
        Assert.Equal(_core.Pseudonyms.HashCallerId(Tenant, CallerId), requested.CallerIdHash);
        Assert.Equal(_core.Clock.GetUtcNow(), requested.CreatedAt);
        Assert.Equal(_core.Clock.GetUtcNow().AddMinutes(10), requested.ExpiresAt);
        Assert.Equal("password_reset", (await SingleAuditAsync("approval.request")).Reason);

        // Asking again while it is pending asks no one twice.
        Assert.Equal("approval_required", (await RunAsync(id)).Refusal!.Code);
        Assert.Single(await _approvals.PendingAsync(Tenant, CancellationToken.None));
        await SingleAuditAsync("approval.request");
        Assert.Empty((await _store.GetSessionAsync(Tenant, id, CancellationToken.None))!.UsedActions);
    }

    [Fact]
    public async Task PrivilegedCaller_Approved_RunsOnce_WithTheApprovalUsed()
    {
        _tenant.PrivilegedGroups = ["Helpdesk Admins"];
        _directory.Groups = () => IdpResult<IReadOnlyList<string>>.Success(["Helpdesk Admins"]);
        var id = await VerifiedAsync();
        await RunAsync(id);
        await _approvals.DecideAsync(Tenant, ApprovalStore.IdFor(TestIds.Verification(id), "password_reset"), OtherAgent, approve: true, CancellationToken.None);

        var (_, refusal, status) = await RunAsync(id);
        Assert.Null(refusal);
        Assert.Equal(StatusCodes.Status200OK, status);
        Assert.Equal([CallerId], _performedOn);
        var use = await SingleAuditAsync("approval.use");
        Assert.Equal(AuditOutcome.Succeeded, use.Outcome);
        Assert.Equal("password_reset", use.Reason);
        Assert.Equal(ApprovalState.Used, (await _approvals.GetAsync(Tenant, ApprovalStore.IdFor(TestIds.Verification(id), "password_reset"), CancellationToken.None))!.State);
    }

    [Fact]
    public async Task PrivilegedCaller_Rejected_RefusedAndAudited()
    {
        _tenant.PrivilegedGroups = ["Helpdesk Admins"];
        _directory.Groups = () => IdpResult<IReadOnlyList<string>>.Success(["Helpdesk Admins"]);
        var id = await VerifiedAsync();
        await RunAsync(id);
        await _approvals.DecideAsync(Tenant, ApprovalStore.IdFor(TestIds.Verification(id), "password_reset"), OtherAgent, approve: false, CancellationToken.None);

        var (_, refusal, status) = await RunAsync(id);
        Assert.Equal("approval_rejected", refusal!.Code);
        Assert.Equal(StatusCodes.Status403Forbidden, status);
        Assert.Empty(_performedOn);
        var denied = await SingleAuditAsync("action.password_reset");
        Assert.Equal(AuditOutcome.Denied, denied.Outcome);
        Assert.Equal("approval_rejected", denied.Reason);
    }

    private async Task<string> AskedBeforeVerifyingAsync(ApprovalState state, AgentContext? requester = null)
    {
        requester ??= Agent;
        var asked = await _approvals.AskBeforeVerifyingAsync(
            new ApprovalRequest
            {
                Id = ApprovalStore.IdBeforeVerifying(requester.Subject, _core.Pseudonyms.HashCallerId(Tenant, CallerId), "password_reset"),
                TenantId = Tenant,
                VerificationId = "",
                Action = "password_reset",
                Permission = CallerAction.PasswordReset.Permission,
                RequesterSubject = requester.Subject,
                RequesterMaskedLogin = requester.MaskedLogin,
                CallerIdHash = _core.Pseudonyms.HashCallerId(Tenant, CallerId),
                CallerMaskedLogin = CallerLogin,
                State = ApprovalState.Pending,
                CreatedAt = _core.Clock.GetUtcNow(),
                ExpiresAt = _core.Clock.GetUtcNow() + ApprovalStore.AskedAtLookupLifetime,
            },
            CancellationToken.None);
        if (state != ApprovalState.Pending)
        {
            var decider = requester == Agent ? OtherAgent : Agent;
            Assert.Equal(ApprovalDecisionResult.Decided, (await _approvals.DecideAsync(Tenant, asked.Id, decider, state == ApprovalState.Approved, CancellationToken.None)).Result);
        }

        return asked.Id;
    }

    [Fact]
    public async Task PrivilegedCaller_ApprovedBeforeVerifying_RunsAtOnce_WithThatApprovalUsed()
    {
        _tenant.PrivilegedGroups = ["Helpdesk Admins"];
        _directory.Groups = () => IdpResult<IReadOnlyList<string>>.Success(["Helpdesk Admins"]);
        var asked = await AskedBeforeVerifyingAsync(ApprovalState.Approved);
        var id = await VerifiedAsync();

        var (_, refusal, status) = await RunAsync(id);

        Assert.Null(refusal);
        Assert.Equal(StatusCodes.Status200OK, status);
        Assert.Equal([CallerId], _performedOn);
        var use = await SingleAuditAsync("approval.use");
        Assert.Equal("password_reset before_verification", use.Reason);
        Assert.Equal(ApprovalState.Used, (await _approvals.GetAsync(Tenant, asked, CancellationToken.None))!.State);
        Assert.Null(await _approvals.GetAsync(Tenant, ApprovalStore.IdFor(TestIds.Verification(id), "password_reset"), CancellationToken.None));
    }

    [Fact]
    public async Task PrivilegedCaller_ApprovedBeforeVerifyingForAnotherAgent_NotUsable()
    {
        _tenant.PrivilegedGroups = ["Helpdesk Admins"];
        _directory.Groups = () => IdpResult<IReadOnlyList<string>>.Success(["Helpdesk Admins"]);
        await AskedBeforeVerifyingAsync(ApprovalState.Approved, requester: OtherAgent);
        var id = await VerifiedAsync();

        var (_, refusal, _) = await RunAsync(id);

        Assert.Equal("approval_required", refusal!.Code);
        Assert.Empty(_performedOn);
        Assert.NotNull(await _approvals.GetAsync(Tenant, ApprovalStore.IdFor(TestIds.Verification(id), "password_reset"), CancellationToken.None));
    }

    [Fact]
    public async Task PrivilegedCaller_AskedBeforeVerifyingStillPending_RefusedWithoutASecondRequest()
    {
        _tenant.PrivilegedGroups = ["Helpdesk Admins"];
        _directory.Groups = () => IdpResult<IReadOnlyList<string>>.Success(["Helpdesk Admins"]);
        await AskedBeforeVerifyingAsync(ApprovalState.Pending);
        var id = await VerifiedAsync();

        var (_, refusal, status) = await RunAsync(id);

        Assert.Equal("approval_required", refusal!.Code);
        Assert.Equal(StatusCodes.Status403Forbidden, status);
        Assert.Empty(_performedOn);
        Assert.Null(await _approvals.GetAsync(Tenant, ApprovalStore.IdFor(TestIds.Verification(id), "password_reset"), CancellationToken.None));
        Assert.Single(await _approvals.PendingAsync(Tenant, CancellationToken.None));
    }

    [Fact]
    public async Task PrivilegedCaller_RejectedBeforeVerifying_Refused_UntilTheRejectionEnds()
    {
        _tenant.PrivilegedGroups = ["Helpdesk Admins"];
        _directory.Groups = () => IdpResult<IReadOnlyList<string>>.Success(["Helpdesk Admins"]);
        await AskedBeforeVerifyingAsync(ApprovalState.Rejected);
        var id = await VerifiedAsync();

        await AssertRefusedAsync(await RunAsync(id), "approval_rejected");

        // Once the rejection has ended, the action asks anew, for this verification.
        _core.Clock.Advance(ApprovalStore.AskedAtLookupLifetime);
        var later = await VerifiedAsync();
        Assert.Equal("approval_required", (await RunAsync(later)).Refusal!.Code);
        Assert.NotNull(await _approvals.GetAsync(Tenant, ApprovalStore.IdFor(TestIds.Verification(later), "password_reset"), CancellationToken.None));
    }

    [Fact]
    public async Task CallerInNoPrivilegedGroup_RunsWithoutApproval()
    {
        _tenant.PrivilegedGroups = ["Helpdesk Admins"];
        _directory.Groups = () => IdpResult<IReadOnlyList<string>>.Success(["Everyone", "Helpdesk"]);
        var id = await VerifiedAsync();
        Assert.Equal(StatusCodes.Status200OK, (await RunAsync(id)).Status);
        Assert.Empty(await _approvals.PendingAsync(Tenant, CancellationToken.None));
    }

    [Fact]
    public async Task NoPrivilegedGroupsOnOkta_GroupsNeverAsked()
    {
        _directory.Groups = () => throw new InvalidOperationException("not to be asked");
        var id = await VerifiedAsync();
        Assert.Equal(StatusCodes.Status200OK, (await RunAsync(id)).Status);
        Assert.Empty(_directory.GroupLookups);
    }

    [Fact]
    public async Task GroupLookupRefused_FailsClosed_ApprovalRequiredAndGroupsUnknownAudited()
    {
        _tenant.PrivilegedGroups = ["Helpdesk Admins"];
        _directory.Groups = () => new IdpError(IdpErrorKind.AccessDenied, "missing_scope", "No scope.");
        var id = await VerifiedAsync();

        var (_, refusal, status) = await RunAsync(id);
        Assert.Equal("approval_required", refusal!.Code);
        Assert.Equal(StatusCodes.Status403Forbidden, status);
        Assert.Empty(_performedOn);
        Assert.Equal("password_reset groups_unknown", (await SingleAuditAsync("approval.request")).Reason);
    }

    [Fact]
    public async Task GroupLookupUnavailable_AgentToldTheIdpIsDown_NothingDone_AuditedFailed()
    {
        _tenant.PrivilegedGroups = ["Helpdesk Admins"];
        _directory.Groups = () => new IdpError(IdpErrorKind.Unavailable, "idp_unavailable", "Down.");
        var id = await VerifiedAsync();

        var (_, refusal, status) = await RunAsync(id);
        Assert.Equal("idp_unavailable", refusal!.Code);
        Assert.Equal(StatusCodes.Status502BadGateway, status);
        Assert.Empty(_performedOn);
        Assert.Empty(await _approvals.PendingAsync(Tenant, CancellationToken.None));
        Assert.Equal("idp_unavailable", (await SingleAuditAsync("action.password_reset")).Reason);
    }

    [Fact]
    public async Task RoleLookupUnreachable_FailsClosed_TheAgentToldTheIdpDidNotAnswer()
    {
        _directory.Roles = () => throw new HttpRequestException("down");
        var id = await VerifiedAsync();

        var (_, refusal, status) = await RunAsync(id);
        Assert.Equal("unreachable", refusal!.Code);
        Assert.Equal(StatusCodes.Status502BadGateway, status);
        Assert.Empty(_performedOn);
    }

    [Fact]
    public async Task OktaAdminRole_NeedsApprovalWithoutPrivilegedGroups_RolesRefused_FailsClosed()
    {
        _directory.Roles = () => IdpResult<IReadOnlyList<string>>.Success(["SUPER_ADMIN"]);
        var admin = await VerifiedAsync();
        Assert.Equal("approval_required", (await RunAsync(admin)).Refusal!.Code);
        Assert.Empty(_directory.GroupLookups);

        _directory.Roles = () => new IdpError(IdpErrorKind.AccessDenied, "missing_scope", "No okta.roles.read.");
        var unknown = await VerifiedAsync();
        Assert.Equal("approval_required", (await RunAsync(unknown)).Refusal!.Code);
        Assert.Empty(_performedOn);
        Assert.Contains((await _core.AuditRecordsAsync(Tenant)).Where(r => r.Action == "approval.request"), r => r.Reason == "password_reset roles_unknown");
    }

    [Fact]
    public async Task Entra_AnyPrivilegeReasonListed_NeedsApproval_NoneListed_Runs()
    {
        _tenant.Idp.Kind = IdpKind.Entra;
        _directory.Roles = () => IdpResult<IReadOnlyList<string>>.Success([]);
        var plain = await VerifiedAsync();
        Assert.Equal(StatusCodes.Status200OK, (await RunAsync(plain)).Status);
        Assert.Equal([CallerId], _directory.RoleLookups);
        Assert.Empty(_directory.GroupLookups);

        _directory.Roles = () => IdpResult<IReadOnlyList<string>>.Success(["role:Global Administrator"]);
        var admin = await VerifiedAsync();
        Assert.Equal("approval_required", (await RunAsync(admin)).Refusal!.Code);
        Assert.Equal([CallerId], _performedOn);
    }

    /// <summary>Executive targets (docs/tenancy.md): the tenant names the group, and the IdP puts the caller in it.</summary>
    private void CallerIsExecutive()
    {
        _tenant.ExecutiveTargets.Groups = ["Executives"];
        _directory.Groups = () => IdpResult<IReadOnlyList<string>>.Success(["Everyone", "executives"]);
    }

    /// <summary>A first verification by TOTP, then a second by push chained to it: the second's id.</summary>
    private async Task<(string First, string Second)> ChainAsync(TimeSpan? firstLifetime = null, TimeSpan? firstDocumentLifetime = null)
    {
        var first = await VerifiedAsync(VerificationMethods.OktaTotp, lifetime: firstLifetime, documentLifetime: firstDocumentLifetime);
        var second = await VerifiedAsync(VerificationMethods.OktaPush, priorId: first, priorMethod: VerificationMethods.OktaTotp);
        return (first, second);
    }

    [Fact]
    public async Task Executive_SecondOfTwoLiveVerificationsByDifferentMethods_ActionRuns()
    {
        CallerIsExecutive();
        var (first, second) = await ChainAsync();

        var (outcome, refusal, status) = await RunAsync(second);

        Assert.Null(refusal);
        Assert.Equal(StatusCodes.Status200OK, status);
        Assert.True(outcome!.Succeeded);
        Assert.Equal([CallerId], _performedOn);
        Assert.Equal(AuditOutcome.Succeeded, (await SingleAuditAsync("action.password_reset")).Outcome);
        Assert.Equal(["password_reset"], (await _store.GetSessionAsync(Tenant, second, CancellationToken.None))!.UsedActions);
        Assert.Empty((await _store.GetSessionAsync(Tenant, first, CancellationToken.None))!.UsedActions);
    }

    [Fact]
    public async Task Executive_OneMethodOnly_RefusedSecondMethodRequired_Audited_NothingAskedOfAColleague()
    {
        CallerIsExecutive();
        _tenant.PrivilegedGroups = ["Executives"];
        var id = await VerifiedAsync();

        var run = await RunAsync(id);

        await AssertRefusedAsync(run, "second_method_required");
        Assert.Equal(RefusalKind.NotAllowed, run.Refusal!.Kind);
        Assert.Contains("executive target", run.Refusal.Message, StringComparison.Ordinal);
        Assert.Contains("second, independent method", run.Refusal.Message, StringComparison.Ordinal);
        Assert.Contains("\"Verify by a second method\"", run.Refusal.Message, StringComparison.Ordinal);
        Assert.Equal(VerificationMethods.OktaPush, (await SingleAuditAsync("action.password_reset")).Method);
        Assert.Empty((await _store.GetSessionAsync(Tenant, id, CancellationToken.None))!.UsedActions);

        // The second method comes before a second agent: no approval is asked for an action that could not run yet.
        Assert.Empty(await _approvals.PendingAsync(Tenant, CancellationToken.None));
        Assert.Empty(_directory.RoleLookups);
    }

    [Fact]
    public async Task Executive_TheFirstVerificationEnded_Refused_TheAgentToldToStartAgain()
    {
        CallerIsExecutive();
        var (_, second) = await ChainAsync(firstLifetime: TimeSpan.FromMinutes(5));
        _core.Clock.Advance(TimeSpan.FromMinutes(5));

        var run = await RunAsync(second);

        await AssertRefusedAsync(run, "second_method_required");
        Assert.Contains("The first of this caller's two verifications has ended", run.Refusal!.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Verify by a second method", run.Refusal.Message, StringComparison.Ordinal);
        Assert.Empty((await _store.GetSessionAsync(Tenant, second, CancellationToken.None))!.UsedActions);
    }

    [Fact]
    public async Task Executive_TheFirstPastItsEnd_StillStored_Refused()
    {
        // A store whose expiry lags still returns the first: its own end is what counts.
        CallerIsExecutive();
        var (_, second) = await ChainAsync(firstLifetime: TimeSpan.FromMinutes(5), firstDocumentLifetime: TimeSpan.FromMinutes(10));
        _core.Clock.Advance(TimeSpan.FromMinutes(5));

        await AssertRefusedAsync(await RunAsync(second), "second_method_required");
    }

    [Fact]
    public async Task Executive_GroupLookUpDown_TheAgentToldTheIdpDidNotAnswer_NotAskedForASecondMethod()
    {
        _tenant.ExecutiveTargets.Groups = ["Executives"];
        _directory.Groups = () => new IdpError(IdpErrorKind.Unavailable, "idp_unavailable", "The identity provider did not answer.");
        var id = await VerifiedAsync();

        var (outcome, refusal, status) = await RunAsync(id);

        Assert.Null(outcome);
        Assert.Equal(new Refusal("idp_unavailable", "The identity provider did not answer.", RefusalKind.IdpFailed), refusal);
        Assert.Equal(StatusCodes.Status502BadGateway, status);
        Assert.Empty(_performedOn);
        var record = await SingleAuditAsync("action.password_reset");
        Assert.Equal((AuditOutcome.Failed, "idp_unavailable"), (record.Outcome, record.Reason));
        Assert.Empty((await _store.GetSessionAsync(Tenant, id, CancellationToken.None))!.UsedActions);
    }

    [Fact]
    public async Task Executive_GroupLookUpRefused_FailsClosed_SecondMethodRequired()
    {
        _tenant.ExecutiveTargets.Groups = ["Executives"];
        _directory.Groups = () => new IdpError(IdpErrorKind.AccessDenied, "missing_scope", "No okta.groups.read.");
        var id = await VerifiedAsync();

        await AssertRefusedAsync(await RunAsync(id), "second_method_required");
    }

    [Fact]
    public async Task Executive_GroupsNamed_CallerInNone_OneMethodActs_TheGroupsAskedOnce()
    {
        _tenant.ExecutiveTargets.Groups = ["Executives"];
        _directory.Groups = () => IdpResult<IReadOnlyList<string>>.Success(["Everyone", "Executive Assistants"]);
        var id = await VerifiedAsync();

        Assert.Equal(StatusCodes.Status200OK, (await RunAsync(id)).Status);
        Assert.Equal([CallerId], _directory.GroupLookups);
        Assert.Equal([CallerId], _performedOn);
    }

    [Fact]
    public async Task Executive_ChainHolds_ThenAPrivilegedExecutiveStillNeedsASecondAgent()
    {
        CallerIsExecutive();
        _tenant.PrivilegedGroups = ["Executives"];
        var (_, second) = await ChainAsync();

        var (_, refusal, _) = await RunAsync(second);

        Assert.Equal(ActionService.ApprovalRequiredCode, refusal!.Code);
        Assert.StartsWith("This caller is a privileged account: Reset password needs a second agent's approval.", refusal.Message, StringComparison.Ordinal);
        Assert.Empty(_performedOn);
        Assert.Single(await _approvals.PendingAsync(Tenant, CancellationToken.None));
    }

    [Fact]
    public async Task HeightenedMode_EveryCallerNeedsApproval_TheAgentToldWhy_TheRequestSaysSo()
    {
        _tenant.HeightenedMode.On = true;
        var id = await VerifiedAsync();

        var (_, refusal, status) = await RunAsync(id);

        Assert.Equal(ActionService.ApprovalRequiredCode, refusal!.Code);
        Assert.Equal(StatusCodes.Status403Forbidden, status);
        Assert.StartsWith("Heightened-threat mode is on in your organisation: Reset password needs a second agent's approval.", refusal.Message, StringComparison.Ordinal);
        Assert.Contains("approval queue", refusal.Message, StringComparison.Ordinal);
        Assert.Empty(_performedOn);
        Assert.Equal("password_reset heightened_mode", (await SingleAuditAsync("approval.request")).Reason);
    }

    [Fact]
    public async Task Recovery_TenantAsksForTwoAgents_ApprovalRequired_TheAgentToldWhy_TheRequestSaysSo()
    {
        _tenant.Recovery.RequireSecondAgent = true;
        var id = await VerifiedAsync(VerificationMethods.RecoveryCallBack);

        var (_, refusal, _) = await RunAsync(id, CallerAction.RevokeSessions);

        Assert.Equal(ActionService.ApprovalRequiredCode, refusal!.Code);
        Assert.StartsWith("This caller was verified through a recovery method, and your organisation asks for two agents on every recovery: Sign out everywhere needs a second agent's approval.", refusal.Message, StringComparison.Ordinal);
        Assert.Empty(_performedOn);
        Assert.Equal("sessions_revoke recovery", (await SingleAuditAsync("approval.request")).Reason);
    }

    [Fact]
    public async Task Recovery_TwoAgentsNotAsked_Runs_AndAskedForRecoveryOnly_APushRuns()
    {
        var callBack = await VerifiedAsync(VerificationMethods.RecoveryCallBack);
        Assert.Equal(StatusCodes.Status200OK, (await RunAsync(callBack, CallerAction.RevokeSessions)).Status);

        _tenant.Recovery.RequireSecondAgent = true;
        var push = await VerifiedAsync();
        Assert.Equal(StatusCodes.Status200OK, (await RunAsync(push, CallerAction.RevokeSessions)).Status);
        Assert.Equal([CallerId, CallerId], _performedOn);
        Assert.Empty(await _approvals.PendingAsync(Tenant, CancellationToken.None));
    }

    [Fact]
    public async Task Recovery_AnApprovalAskedAtLookUp_NotUsed_NorItsRejection_ANewRequestForThisVerification()
    {
        // The colleague who approved at look-up did not know the caller would be verified by someone else's word.
        _tenant.PrivilegedGroups = ["Helpdesk Admins"];
        _tenant.ActionMethods["password_reset"] = [VerificationMethods.RecoveryCallBack];
        _directory.Groups = () => IdpResult<IReadOnlyList<string>>.Success(["Helpdesk Admins"]);
        var asked = await AskedBeforeVerifyingAsync(ApprovalState.Approved);
        var id = await VerifiedAsync(VerificationMethods.RecoveryCallBack);

        var (_, refusal, _) = await RunAsync(id);

        Assert.Equal(ActionService.ApprovalRequiredCode, refusal!.Code);
        Assert.Empty(_performedOn);
        Assert.Equal(ApprovalState.Approved, (await _approvals.GetAsync(Tenant, asked, CancellationToken.None))!.State);
        Assert.NotNull(await _approvals.GetAsync(Tenant, ApprovalStore.IdFor(TestIds.Verification(id), "password_reset"), CancellationToken.None));
    }

    [Fact]
    public async Task Recovery_ARejectionAtLookUp_DoesNotRefuseARecoveryVerification_ItAsksAnew()
    {
        _tenant.PrivilegedGroups = ["Helpdesk Admins"];
        _tenant.ActionMethods["password_reset"] = [VerificationMethods.RecoveryCallBack];
        _directory.Groups = () => IdpResult<IReadOnlyList<string>>.Success(["Helpdesk Admins"]);
        await AskedBeforeVerifyingAsync(ApprovalState.Rejected);
        var id = await VerifiedAsync(VerificationMethods.RecoveryCallBack);

        Assert.Equal(ActionService.ApprovalRequiredCode, (await RunAsync(id)).Refusal!.Code);
        Assert.NotNull(await _approvals.GetAsync(Tenant, ApprovalStore.IdFor(TestIds.Verification(id), "password_reset"), CancellationToken.None));
    }

    [Fact]
    public async Task RecoveryNotice_TheAgentReadsWhatBecameOfIt_NoneAfterOtherActions()
    {
        var notice = new Portal.Web.Verification.Recovery.RecoveryNoticeResult(true, "The caller was told by e-mail.");
        var id = await VerifiedAsync();

        var (outcome, _, _) = await RunAsync(id, service: new(_directories, _store, _references, _core.Audit, _approvals, _usage, new FixedNotice(notice), _alerts, NullLogger<ActionService>.Instance));
        Assert.Same(notice, outcome!.Notice);
        Assert.True(outcome.Succeeded);

        var (plain, _, _) = await RunAsync(id, CallerAction.Unlock);
        Assert.Null(plain!.Notice);
    }

    private sealed class FixedNotice(Portal.Web.Verification.Recovery.RecoveryNoticeResult result) : Portal.Web.Verification.Recovery.IRecoveryNotices
    {
        public Task<Portal.Web.Verification.Recovery.RecoveryNoticeResult?> AfterActionAsync(AgentRequest request, CallerAction action, VerificationSession session, string callerId, ActionOutcome outcome, CancellationToken ct) =>
            Task.FromResult<Portal.Web.Verification.Recovery.RecoveryNoticeResult?>(result);
    }

    /// <summary>The real audit trail, with the write before the IdP call or the completion after it failing as a store that is down does.</summary>
    private sealed class BrokenAudit(IAuditTrail inner) : IAuditTrail
    {
        public bool FailBegin { get; init; }

        public bool FailComplete { get; init; }

        public Task<AuditRecord> RecordAsync(AuditEntry entry, CancellationToken cancellationToken = default) => inner.RecordAsync(entry, cancellationToken);

        public Task<AuditRecord?> RecordOnceAsync(AuditEntry entry, string occurrenceKey, DateTimeOffset occurredAt, CancellationToken cancellationToken = default) =>
            inner.RecordOnceAsync(entry, occurrenceKey, occurredAt, cancellationToken);

        public Task<PendingAudit> BeginAsync(AuditEntry entry, CancellationToken cancellationToken = default) =>
            FailBegin ? throw new AuditUnavailableException("The audit store is down.") : inner.BeginAsync(entry, cancellationToken);

        public Task CompleteAsync(PendingAudit pending, AuditOutcome outcome, string? reason, CancellationToken cancellationToken = default) =>
            FailComplete ? throw new AuditUnavailableException("The audit store is down.") : inner.CompleteAsync(pending, outcome, reason, cancellationToken);

        public Task<AuditPage> QueryAsync(string tenantId, AuditQuery query, CancellationToken cancellationToken = default) => inner.QueryAsync(tenantId, query, cancellationToken);
    }

    private sealed class FakeDirectoryFactory(ICallerDirectory directory) : ICallerDirectoryFactory
    {
        public ICallerDirectory Create(IdpConnection connection) => directory;
    }

    private sealed class FakeSecrets : ISecretResolver
    {
        public string Resolve(string reference, string settingName) => "token";
    }

    private sealed class FakeCatalog(TenantSettings tenant) : ITenantCatalog
    {
        public IReadOnlyList<TenantSettings> All => [tenant];

        public TenantSettings? Find(string tenantId) => tenantId == tenant.Id ? tenant : null;

        public TenantSettings? FindByEmailDomain(string domain) => null;
    }

    private sealed class RecordingUsage : IUsageMeter
    {
        public List<(string Action, AuditOutcome Outcome)> Actions { get; } = [];

        public Task RecordVerificationAsync(string tenantId, string method, AuditOutcome outcome, string? callerId, CancellationToken cancellationToken = default) => Task.CompletedTask;

        public Task RecordActionAsync(string tenantId, string action, AuditOutcome outcome, CancellationToken cancellationToken = default)
        {
            Actions.Add((action, outcome));
            return Task.CompletedTask;
        }

        public Task RecordOutsideActionAsync(string tenantId, string kind, DateTimeOffset happenedAt, CancellationToken cancellationToken = default) => Task.CompletedTask;
    }

    /// <summary>No action sends an Entra push.</summary>
    private sealed class NoEntraPush : Portal.Idp.Entra.IEntraPushChallenge
    {
        public Task<IdpResult<PushState>> PushAsync(Portal.Idp.Entra.EntraPushConnection connection, string userPrincipalName, string callerName, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();
    }
}

/// <summary>No recovery notices: these tests are about the action's own refusals and records (RecoveryNoticeTests covers the notice).</summary>
internal sealed class NoNotices : Portal.Web.Verification.Recovery.IRecoveryNotices
{
    public static readonly NoNotices Instance = new();

    public Task<Portal.Web.Verification.Recovery.RecoveryNoticeResult?> AfterActionAsync(Portal.Web.Agents.AgentRequest request, CallerAction action, VerificationSession session, string callerId, ActionOutcome outcome, CancellationToken ct) =>
        Task.FromResult<Portal.Web.Verification.Recovery.RecoveryNoticeResult?>(null);
}

/// <summary>The alarms an action raised, kept for the test to read.</summary>
internal sealed class RecordingAlerts : Portal.Web.Tenancy.IAlertNotifier
{
    public System.Collections.Concurrent.ConcurrentQueue<Portal.Web.Tenancy.AlertEvent> Raised { get; } = new();

    public void Raise(Portal.Web.Tenancy.AlertEvent alert) => Raised.Enqueue(alert);

    public Task<string> SendTestAsync(Portal.Web.Tenancy.AlertEvent test, CancellationToken cancellationToken) => Task.FromResult("no_webhook");
}

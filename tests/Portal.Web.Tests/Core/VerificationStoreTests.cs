using Portal.Idp;
using Portal.Storage;
using Portal.Web.Platform;
using Portal.Web.Tenancy;
using Portal.Web.Verification;

namespace Portal.Web.Tests.Core;

/// <summary>The verification store's rules (V2–V6) at their boundaries, on the real store and a fake clock.</summary>
public sealed class VerificationStoreTests : IDisposable
{
    private const string Tenant = "acme";
    private const string Caller = "caller-hash-1";
    private const string AgentSession = "0123456789abcdef0123456789abcdef";
    private const string Agent = "agent-sub-1";

    private readonly CoreStore _core = new();
    private readonly VerificationStore _store;
    private readonly VerificationPolicySettings _policy = new() { MaxFailuresBeforeCooldown = 3, CooldownMinutes = 15, AlarmCooldownMinutes = 60, MaxPushesPerWindow = 3, PushWindowMinutes = 10 };

    public VerificationStoreTests() => _store = new VerificationStore(_core.Documents, _core.Clock);

    public void Dispose() => _core.Dispose();

    private static string NewId() => PortalIds.New();

    private async Task<string> SessionAsync(TimeSpan lifetime, string agentSession = AgentSession, string agent = Agent, TimeSpan? documentLag = null)
    {
        var id = NewId();
        var session = new VerificationSession
        {
            Id = id,
            TenantId = Tenant,
            AgentSessionId = agentSession,
            AgentSubject = agent,
            CallerIdHash = Caller,
            CallerMaskedLogin = "j***@e***.com",
            CallerRefProtected = "protected",
            Method = VerificationMethods.OktaPush,
            VerifiedAt = _core.Clock.GetUtcNow(),
            ExpiresAt = _core.Clock.GetUtcNow() + lifetime,
        };
        if (documentLag is { } lag)
        {
            // The document outlives the verification, as a store whose expiry lags would keep it.
            Assert.True(await _core.Documents.CreateAsync(new DocumentKey(CollectionPath.ForTenant(Tenant, "verificationSessions"), id), DocumentJson.ToDocument(session), session.ExpiresAt + lag));
        }
        else
        {
            await _store.CreateSessionAsync(session, CancellationToken.None);
        }

        return id;
    }

    private PendingVerification Pending(TimeSpan lifetime) => new()
    {
        Id = NewId(),
        TenantId = Tenant,
        AgentSessionId = AgentSession,
        AgentSubject = Agent,
        CallerIdHash = Caller,
        CallerMaskedLogin = "j***@e***.com",
        CallerRefProtected = "protected",
        Method = VerificationMethods.OktaPush,
        CorrectAnswer = 42,
        PollRefProtected = "poll",
        State = ChallengeState.Waiting,
        CreatedAt = _core.Clock.GetUtcNow(),
        ExpiresAt = _core.Clock.GetUtcNow() + lifetime,
    };

    private async Task<CallerCounters> CountersAsync()
    {
        var doc = await _core.Documents.GetAsync(new DocumentKey(CollectionPath.ForTenant(Tenant, "callerCounters"), Caller));
        Assert.NotNull(doc);
        return DocumentJson.FromDocument<CallerCounters>(doc.Data);
    }

    private Task<CallerGate> GateAsync(bool forAction = false) => _store.CheckGateAsync(Tenant, Caller, forAction, CancellationToken.None);

    private Task<(CallerGate Gate, string? ReservationId)> ReserveAsync(bool isPush = false) =>
        _store.TryReserveAttemptAsync(Tenant, Caller, isPush, _policy, CancellationToken.None);

    [Fact]
    public async Task Consume_OneTickBeforeExpiry_Consumed_AtTheExpiryInstant_Expired()
    {
        var id = await SessionAsync(TimeSpan.FromMinutes(10), documentLag: TimeSpan.FromMinutes(1));
        var other = await SessionAsync(TimeSpan.FromMinutes(10), documentLag: TimeSpan.FromMinutes(1));

        _core.Clock.Advance(TimeSpan.FromMinutes(10) - TimeSpan.FromTicks(1));
        var (before, session) = await _store.ConsumeAsync(Tenant, id, AgentSession, Agent, "password_reset", CancellationToken.None);
        Assert.Equal(ConsumeResult.Consumed, before);
        Assert.Equal(["password_reset"], session!.UsedActions);

        _core.Clock.Advance(TimeSpan.FromTicks(1));
        var (at, expired) = await _store.ConsumeAsync(Tenant, other, AgentSession, Agent, "password_reset", CancellationToken.None);
        Assert.Equal(ConsumeResult.Expired, at);
        Assert.Equal(other, expired!.Id);
        Assert.Empty(expired.UsedActions);
    }

    [Fact]
    public async Task Consume_SameActionTwice_SecondAlreadyUsed_AnotherActionStillConsumed()
    {
        var id = await SessionAsync(TimeSpan.FromMinutes(10));

        Assert.Equal(ConsumeResult.Consumed, (await _store.ConsumeAsync(Tenant, id, AgentSession, Agent, "password_reset", CancellationToken.None)).Result);
        var (again, session) = await _store.ConsumeAsync(Tenant, id, AgentSession, Agent, "password_reset", CancellationToken.None);
        Assert.Equal(ConsumeResult.AlreadyUsed, again);
        Assert.Equal(["password_reset"], session!.UsedActions);

        var (other, after) = await _store.ConsumeAsync(Tenant, id, AgentSession, Agent, "account_unlock", CancellationToken.None);
        Assert.Equal(ConsumeResult.Consumed, other);
        Assert.Equal(["password_reset", "account_unlock"], after!.UsedActions);
        var stored = await _store.GetSessionAsync(Tenant, id, CancellationToken.None);
        Assert.Equal(["password_reset", "account_unlock"], stored!.UsedActions);
    }

    [Fact]
    public async Task Consume_OtherAgentSessionSubjectTenantOrMalformedId_NotFoundAndNothingUsed()
    {
        var id = await SessionAsync(TimeSpan.FromMinutes(10));

        Assert.Equal((ConsumeResult.NotFound, null), await _store.ConsumeAsync(Tenant, id, "fedcba9876543210fedcba9876543210", Agent, "password_reset", CancellationToken.None));
        Assert.Equal((ConsumeResult.NotFound, null), await _store.ConsumeAsync(Tenant, id, AgentSession, "agent-sub-2", "password_reset", CancellationToken.None));
        Assert.Equal((ConsumeResult.NotFound, null), await _store.ConsumeAsync("other", id, AgentSession, Agent, "password_reset", CancellationToken.None));
        Assert.Equal((ConsumeResult.NotFound, null), await _store.ConsumeAsync(Tenant, id.ToUpperInvariant(), AgentSession, Agent, "password_reset", CancellationToken.None));
        Assert.Equal((ConsumeResult.NotFound, null), await _store.ConsumeAsync(Tenant, NewId(), AgentSession, Agent, "password_reset", CancellationToken.None));

        Assert.Empty((await _store.GetSessionAsync(Tenant, id, CancellationToken.None))!.UsedActions);
        Assert.Null(await _store.GetSessionAsync(Tenant, "not-an-id", CancellationToken.None));
    }

    [Fact]
    public async Task Session_IsStoredUntilItsExpiryOnly()
    {
        var id = await SessionAsync(TimeSpan.FromMinutes(10));
        _core.Clock.Advance(TimeSpan.FromMinutes(10) - TimeSpan.FromSeconds(1));
        Assert.NotNull(await _store.GetSessionAsync(Tenant, id, CancellationToken.None));
        _core.Clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Null(await _store.GetSessionAsync(Tenant, id, CancellationToken.None));
    }

    [Fact]
    public async Task EndSessionsOfAgentSession_EndsThatAgentSessionsVerificationsOnly()
    {
        var mine = await SessionAsync(TimeSpan.FromMinutes(10));
        var mineToo = await SessionAsync(TimeSpan.FromMinutes(10));
        var theirs = await SessionAsync(TimeSpan.FromMinutes(10), agentSession: "fedcba9876543210fedcba9876543210", agent: "agent-sub-2");

        await _store.EndSessionsOfAgentSessionAsync(Tenant, AgentSession, CancellationToken.None);

        Assert.Null(await _store.GetSessionAsync(Tenant, mine, CancellationToken.None));
        Assert.Null(await _store.GetSessionAsync(Tenant, mineToo, CancellationToken.None));
        Assert.NotNull(await _store.GetSessionAsync(Tenant, theirs, CancellationToken.None));
    }

    [Fact]
    public async Task Pending_KeptTenMinutesPastItsExpiry_ThenGone()
    {
        var pending = Pending(TimeSpan.FromMinutes(10));
        await _store.CreatePendingAsync(pending, CancellationToken.None);
        await Assert.ThrowsAsync<InvalidOperationException>(() => _store.CreatePendingAsync(pending, CancellationToken.None));

        _core.Clock.Advance(TimeSpan.FromMinutes(20) - TimeSpan.FromSeconds(1));
        Assert.Equal(42, (await _store.GetPendingAsync(Tenant, pending.Id, CancellationToken.None))!.CorrectAnswer);
        _core.Clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Null(await _store.GetPendingAsync(Tenant, pending.Id, CancellationToken.None));
        Assert.Null(await _store.GetPendingAsync(Tenant, "not-an-id", CancellationToken.None));
    }

    [Fact]
    public async Task CreateSession_SameIdTwice_Throws()
    {
        var id = await SessionAsync(TimeSpan.FromMinutes(10));
        var session = (await _store.GetSessionAsync(Tenant, id, CancellationToken.None))!;
        await Assert.ThrowsAsync<InvalidOperationException>(() => _store.CreateSessionAsync(session, CancellationToken.None));
    }

    [Fact]
    public async Task CompletePending_FirstCallerWins_TheNumberIsDropped_OthersGetNull()
    {
        var pending = Pending(TimeSpan.FromMinutes(10));
        await _store.CreatePendingAsync(pending, CancellationToken.None);

        var won = await _store.CompletePendingAsync(Tenant, pending.Id, ChallengeState.Approved, "session-1", CancellationToken.None, "reason-1");
        Assert.NotNull(won);
        Assert.Equal(ChallengeState.Approved, won.State);
        Assert.Equal("session-1", won.VerificationSessionId);
        Assert.Equal("reason-1", won.FailureReason);
        Assert.Equal(0, won.CorrectAnswer);

        Assert.Null(await _store.CompletePendingAsync(Tenant, pending.Id, ChallengeState.Rejected, null, CancellationToken.None));
        var stored = await _store.GetPendingAsync(Tenant, pending.Id, CancellationToken.None);
        Assert.Equal(ChallengeState.Approved, stored!.State);
        Assert.Equal(0, stored.CorrectAnswer);
        Assert.Null(await _store.CompletePendingAsync(Tenant, NewId(), ChallengeState.Rejected, null, CancellationToken.None));
    }

    [Fact]
    public async Task ReasonAfterEnd_OnceOnAnEndedChallenge_NeverOnAWaitingOne_TheChallengeKeptAsLongAsBefore()
    {
        // A call-back's "they did not call us", heard after the challenge ended: the reason is given once (one alarm).
        var waiting = Pending(TimeSpan.FromMinutes(10));
        await _store.CreatePendingAsync(waiting, CancellationToken.None);
        Assert.Null(await _store.ReasonAfterEndAsync(Tenant, waiting.Id, "callback_not_me", CancellationToken.None));
        Assert.Equal((ChallengeState.Waiting, null), ((await _store.GetPendingAsync(Tenant, waiting.Id, CancellationToken.None))!.State, (await _store.GetPendingAsync(Tenant, waiting.Id, CancellationToken.None))!.FailureReason));

        var ended = Pending(TimeSpan.FromMinutes(10));
        await _store.CreatePendingAsync(ended, CancellationToken.None);
        await _store.CompletePendingAsync(Tenant, ended.Id, ChallengeState.TimedOut, null, CancellationToken.None, "callback_timed_out");

        var reported = await _store.ReasonAfterEndAsync(Tenant, ended.Id, "callback_not_me", CancellationToken.None);
        Assert.NotNull(reported);
        Assert.Equal((ChallengeState.TimedOut, "callback_not_me"), (reported.State, reported.FailureReason));
        var stored = await _store.GetPendingAsync(Tenant, ended.Id, CancellationToken.None);
        Assert.Equal((ChallengeState.TimedOut, "callback_not_me"), (stored!.State, stored.FailureReason));

        // Twice (a double click, two tabs): the second is told it was reported already.
        Assert.Null(await _store.ReasonAfterEndAsync(Tenant, ended.Id, "callback_not_me", CancellationToken.None));
        Assert.Null(await _store.ReasonAfterEndAsync(Tenant, NewId(), "callback_not_me", CancellationToken.None));

        // The report does not keep the ended challenge any longer than its ten minutes past expiry.
        _core.Clock.Advance(TimeSpan.FromMinutes(20) - TimeSpan.FromSeconds(1));
        Assert.NotNull(await _store.GetPendingAsync(Tenant, ended.Id, CancellationToken.None));
        _core.Clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Null(await _store.GetPendingAsync(Tenant, ended.Id, CancellationToken.None));
    }

    [Fact]
    public async Task PushPoll_OneClaimPerTwoSeconds_NoneOnceTheChallengeEnded()
    {
        var pending = Pending(TimeSpan.FromMinutes(10));
        await _store.CreatePendingAsync(pending, CancellationToken.None);

        Assert.True(await _store.TryClaimPushPollAsync(Tenant, pending.Id, CancellationToken.None));
        Assert.Equal(_core.Clock.GetUtcNow(), (await _store.GetPendingAsync(Tenant, pending.Id, CancellationToken.None))!.LastPolledAt);
        Assert.False(await _store.TryClaimPushPollAsync(Tenant, pending.Id, CancellationToken.None));
        _core.Clock.Advance(VerificationStore.PushPollInterval - TimeSpan.FromTicks(1));
        Assert.False(await _store.TryClaimPushPollAsync(Tenant, pending.Id, CancellationToken.None));
        _core.Clock.Advance(TimeSpan.FromTicks(1));
        Assert.True(await _store.TryClaimPushPollAsync(Tenant, pending.Id, CancellationToken.None));

        // A poll time ahead of this instance's clock (another instance's clock runs fast) does not block polling.
        var ahead = Pending(TimeSpan.FromMinutes(10)) with { LastPolledAt = _core.Clock.GetUtcNow().AddSeconds(1) };
        await _store.CreatePendingAsync(ahead, CancellationToken.None);
        Assert.True(await _store.TryClaimPushPollAsync(Tenant, ahead.Id, CancellationToken.None));

        _core.Clock.Advance(TimeSpan.FromMinutes(1));
        await _store.CompletePendingAsync(Tenant, pending.Id, ChallengeState.TimedOut, null, CancellationToken.None);
        Assert.False(await _store.TryClaimPushPollAsync(Tenant, pending.Id, CancellationToken.None));
        Assert.False(await _store.TryClaimPushPollAsync(Tenant, NewId(), CancellationToken.None));
    }

    [Fact]
    public async Task TotpUse_OncePerCode_AgainOnlyAfterFiveMinutes()
    {
        Assert.True(await _store.TryUseTotpAsync(Tenant, "use-1", CancellationToken.None));
        Assert.False(await _store.TryUseTotpAsync(Tenant, "use-1", CancellationToken.None));
        Assert.True(await _store.TryUseTotpAsync(Tenant, "use-2", CancellationToken.None));
        _core.Clock.Advance(TimeSpan.FromMinutes(5) - TimeSpan.FromSeconds(1));
        Assert.False(await _store.TryUseTotpAsync(Tenant, "use-1", CancellationToken.None));
        _core.Clock.Advance(TimeSpan.FromSeconds(1));
        Assert.True(await _store.TryUseTotpAsync(Tenant, "use-1", CancellationToken.None));
    }

    [Fact]
    public async Task Reserve_ChargesEachAttempt_TheLimitInARowStartsACooldownThatBlocksChallengesNotActions()
    {
        Assert.Equal(CallerGate.Open, await GateAsync());

        var (first, firstId) = await ReserveAsync();
        Assert.Equal(CallerGate.Open, first);
        Assert.Matches("^[0-9a-f]{24}$", firstId);
        Assert.Equal((1, 1), ((await CountersAsync()).FailuresInRow, (await CountersAsync()).TotalFailures));
        await ReserveAsync();
        Assert.Equal(CallerGate.Open, await GateAsync());

        var (third, thirdId) = await ReserveAsync();
        Assert.Equal(CallerGate.Open, third);
        var counters = await CountersAsync();
        Assert.Equal(0, counters.FailuresInRow);
        Assert.Equal(3, counters.TotalFailures);
        Assert.Equal(_core.Clock.GetUtcNow().AddMinutes(15), counters.CooldownUntil);
        Assert.Equal(thirdId, counters.CooldownStartedBy);

        Assert.Equal(CallerGate.CoolingDown, await GateAsync());
        Assert.Equal(CallerGate.Open, await GateAsync(forAction: true));
        Assert.Equal((CallerGate.CoolingDown, null), await ReserveAsync());
        Assert.Equal(3, (await CountersAsync()).TotalFailures);

        _core.Clock.Advance(TimeSpan.FromMinutes(15) - TimeSpan.FromTicks(1));
        Assert.Equal(CallerGate.CoolingDown, await GateAsync());
        _core.Clock.Advance(TimeSpan.FromTicks(1));
        Assert.Equal(CallerGate.Open, await GateAsync());
    }

    [Fact]
    public async Task Refund_AfterSuccess_EndsTheRowAndLiftsItsOwnCooldown_AfterAnIdpError_KeepsTheCooldown()
    {
        await ReserveAsync();
        await ReserveAsync();
        var (_, third) = await ReserveAsync();
        Assert.Equal(CallerGate.CoolingDown, await GateAsync());

        // An IdP error gives the attempt back but keeps the cool-down its charge started (fail closed).
        await _store.RefundAsync(Tenant, Caller, third!, succeeded: false, CancellationToken.None);
        var afterError = await CountersAsync();
        Assert.Equal(2, afterError.TotalFailures);
        Assert.Equal(0, afterError.FailuresInRow);
        Assert.NotNull(afterError.CooldownUntil);
        Assert.Equal(CallerGate.CoolingDown, await GateAsync());

        // Another reservation's success does not lift it.
        await _store.RefundAsync(Tenant, Caller, "someone-else", succeeded: true, CancellationToken.None);
        Assert.Equal(CallerGate.CoolingDown, await GateAsync());

        // The success of the very attempt that started it does.
        await _store.RefundAsync(Tenant, Caller, third!, succeeded: true, CancellationToken.None);
        var afterSuccess = await CountersAsync();
        Assert.Null(afterSuccess.CooldownUntil);
        Assert.Null(afterSuccess.CooldownStartedBy);
        Assert.Equal(0, afterSuccess.TotalFailures);
        Assert.Equal(CallerGate.Open, await GateAsync());
    }

    [Fact]
    public async Task Refund_AfterIdpError_GivesBackOneFailureInTheRow_AfterSuccess_EndsTheRow()
    {
        await ReserveAsync();
        var (_, second) = await ReserveAsync();
        Assert.Equal((2, 2), ((await CountersAsync()).FailuresInRow, (await CountersAsync()).TotalFailures));

        await _store.RefundAsync(Tenant, Caller, second!, succeeded: false, CancellationToken.None);
        Assert.Equal((1, 1), ((await CountersAsync()).FailuresInRow, (await CountersAsync()).TotalFailures));

        var (_, third) = await ReserveAsync();
        await _store.RefundAsync(Tenant, Caller, third!, succeeded: true, CancellationToken.None);
        Assert.Equal((0, 1), ((await CountersAsync()).FailuresInRow, (await CountersAsync()).TotalFailures));

        // Refunds never go below zero, and a caller without counters stays without.
        await _store.RefundAsync(Tenant, Caller, "x", succeeded: false, CancellationToken.None);
        await _store.RefundAsync(Tenant, Caller, "x", succeeded: false, CancellationToken.None);
        Assert.Equal((0, 0), ((await CountersAsync()).FailuresInRow, (await CountersAsync()).TotalFailures));
        await _store.RefundAsync(Tenant, "nobody", "x", succeeded: true, CancellationToken.None);
        Assert.Null(await _core.Documents.GetAsync(new DocumentKey(CollectionPath.ForTenant(Tenant, "callerCounters"), "nobody")));
    }

    [Fact]
    public async Task RecordSuccess_EndsTheRowOnly()
    {
        await _store.RecordSuccessAsync(Tenant, Caller, CancellationToken.None);
        Assert.Null(await _core.Documents.GetAsync(new DocumentKey(CollectionPath.ForTenant(Tenant, "callerCounters"), Caller)));

        await _store.RecordFailureAsync(Tenant, Caller, alarm: false, _policy, CancellationToken.None);
        await _store.RecordFailureAsync(Tenant, Caller, alarm: false, _policy, CancellationToken.None);
        await _store.RecordSuccessAsync(Tenant, Caller, CancellationToken.None);
        Assert.Equal((0, 2), ((await CountersAsync()).FailuresInRow, (await CountersAsync()).TotalFailures));

        // The counters outlive the success by a day, as they did before it.
        _core.Clock.Advance(TimeSpan.FromDays(1) - TimeSpan.FromSeconds(1));
        Assert.Equal(2, (await CountersAsync()).TotalFailures);
    }

    [Fact]
    public async Task RecordFailure_CountsUnreservedFailures_TheLimitStartsACooldown_AnAlarmBlocksActionsToo()
    {
        await _store.RecordFailureAsync(Tenant, Caller, alarm: false, _policy, CancellationToken.None);
        await _store.RecordFailureAsync(Tenant, Caller, alarm: false, _policy, CancellationToken.None);
        Assert.Equal(CallerGate.Open, await GateAsync());
        await _store.RecordFailureAsync(Tenant, Caller, alarm: false, _policy, CancellationToken.None);
        var counters = await CountersAsync();
        Assert.Null(counters.CooldownStartedBy);
        Assert.Equal(CallerGate.CoolingDown, await GateAsync());
        Assert.Equal(CallerGate.Open, await GateAsync(forAction: true));

        await _store.RecordFailureAsync(Tenant, Caller, alarm: true, _policy, CancellationToken.None);
        Assert.Equal(_core.Clock.GetUtcNow().AddMinutes(60), (await CountersAsync()).AlarmUntil);
        Assert.Equal(CallerGate.Alarm, await GateAsync(forAction: true));
        Assert.Equal(4, (await CountersAsync()).TotalFailures);
    }

    [Fact]
    public async Task Alarm_BlocksChallengesAndActionsUntilItsCooldownEnds_EvenPastTheCountersUsualDay()
    {
        var policy = new VerificationPolicySettings { AlarmCooldownMinutes = 10080 };
        await _store.RaiseAlarmAsync(Tenant, Caller, policy, CancellationToken.None);
        Assert.Equal(CallerGate.Alarm, await GateAsync());
        Assert.Equal(CallerGate.Alarm, await GateAsync(forAction: true));
        Assert.Equal((CallerGate.Alarm, null), await ReserveAsync());
        Assert.Equal(CallerGate.Alarm, (await _store.TryReserveAttemptAsync(Tenant, Caller, isPush: true, _policy, CancellationToken.None)).Gate);

        // Seven days of alarm: the counter document lives as long as the alarm does.
        _core.Clock.Advance(TimeSpan.FromMinutes(10080) - TimeSpan.FromTicks(1));
        Assert.Equal(CallerGate.Alarm, await GateAsync(forAction: true));
        _core.Clock.Advance(TimeSpan.FromTicks(1));
        Assert.Equal(CallerGate.Open, await GateAsync(forAction: true));
    }

    [Fact]
    public async Task AlarmAndCooldown_EndAtTheirInstant_WhileTheCountersAreStillKept()
    {
        // Shorter than the counters' day, so that the gate itself (not the document's expiry) says when each ends.
        await _store.RaiseAlarmAsync(Tenant, Caller, _policy, CancellationToken.None);
        _core.Clock.Advance(TimeSpan.FromMinutes(60) - TimeSpan.FromTicks(1));
        Assert.Equal(CallerGate.Alarm, await GateAsync(forAction: true));
        _core.Clock.Advance(TimeSpan.FromTicks(1));
        Assert.Equal(CallerGate.Open, await GateAsync(forAction: true));
        Assert.Equal(CallerGate.Open, await GateAsync());
        Assert.NotNull(await _core.Documents.GetAsync(new DocumentKey(CollectionPath.ForTenant(Tenant, "callerCounters"), Caller)));

        for (var i = 0; i < _policy.MaxFailuresBeforeCooldown; i++)
        {
            await _store.RecordFailureAsync(Tenant, Caller, alarm: false, _policy, CancellationToken.None);
        }

        _core.Clock.Advance(TimeSpan.FromMinutes(15) - TimeSpan.FromTicks(1));
        Assert.Equal(CallerGate.CoolingDown, await GateAsync());
        _core.Clock.Advance(TimeSpan.FromTicks(1));
        Assert.Equal(CallerGate.Open, await GateAsync());
    }

    [Fact]
    public async Task Consume_TheFirstTicketGivenBecomesTheVerifications_LaterOnesDoNotReplaceIt()
    {
        var id = await SessionAsync(TimeSpan.FromMinutes(10));
        Assert.Null((await _store.ConsumeAsync(Tenant, id, AgentSession, Agent, "account_unlock", null, CancellationToken.None)).Session!.TicketRef);
        Assert.Equal("INC-1", (await _store.ConsumeAsync(Tenant, id, AgentSession, Agent, "password_reset", "INC-1", CancellationToken.None)).Session!.TicketRef);
        Assert.Equal("INC-1", (await _store.ConsumeAsync(Tenant, id, AgentSession, Agent, "sessions_revoke", "INC-2", CancellationToken.None)).Session!.TicketRef);
        Assert.Equal("INC-1", (await _store.GetSessionAsync(Tenant, id, CancellationToken.None))!.TicketRef);
    }

    [Fact]
    public async Task AWeekOfAlarm_NotShortenedByARefundOrASuccess_ACounterStoredWithoutExpiryKeptADay()
    {
        // A refund or a success rewrites the counters: the alarm's week must outlive it, not fall back to a day.
        var policy = new VerificationPolicySettings { AlarmCooldownMinutes = 10080 };
        await _store.RaiseAlarmAsync(Tenant, Caller, policy, CancellationToken.None);
        await _store.RefundAsync(Tenant, Caller, "x", succeeded: false, CancellationToken.None);
        await _store.RecordSuccessAsync(Tenant, Caller, CancellationToken.None);
        _core.Clock.Advance(TimeSpan.FromDays(2));
        Assert.Equal(CallerGate.Alarm, await GateAsync(forAction: true));

        // Counters stored without an expiry (an earlier version's) are given the usual day when next written.
        var key = new DocumentKey(CollectionPath.ForTenant(Tenant, "callerCounters"), "older-caller");
        foreach (var write in new Func<Task>[]
        {
            () => _store.RefundAsync(Tenant, "older-caller", "x", succeeded: false, CancellationToken.None),
            () => _store.RecordSuccessAsync(Tenant, "older-caller", CancellationToken.None),
        })
        {
            await _core.Documents.SetAsync(key, DocumentJson.ToDocument(new CallerCounters { FailuresInRow = 2, TotalFailures = 2 }), null);
            await write();
            Assert.Equal(_core.Clock.GetUtcNow().AddDays(1), (await _core.Documents.GetAsync(key))!.ExpireAt);
        }
    }

    [Fact]
    public async Task RaiseAlarm_KeepsTheFailureCount()
    {
        await _store.RecordFailureAsync(Tenant, Caller, alarm: false, _policy, CancellationToken.None);
        await _store.RecordFailureAsync(Tenant, Caller, alarm: false, _policy, CancellationToken.None);
        await _store.RaiseAlarmAsync(Tenant, Caller, _policy, CancellationToken.None);
        var counters = await CountersAsync();
        Assert.Equal((2, 2), (counters.FailuresInRow, counters.TotalFailures));
        Assert.Equal(_core.Clock.GetUtcNow().AddMinutes(60), counters.AlarmUntil);
    }

    [Fact]
    public async Task ReserveAttempt_CallerCoolingDown_Refused()
    {
        for (var i = 0; i < _policy.MaxFailuresBeforeCooldown; i++)
        {
            await _store.RecordFailureAsync(Tenant, Caller, alarm: false, _policy, CancellationToken.None);
        }

        Assert.Equal((CallerGate.CoolingDown, null), await _store.TryReserveAttemptAsync(Tenant, Caller, isPush: false, _policy, CancellationToken.None));
    }

    [Fact]
    public async Task Cooldown_LongerThanADay_KeepsTheCountersAlive()
    {
        var policy = new VerificationPolicySettings { MaxFailuresBeforeCooldown = 1, CooldownMinutes = 1440 * 2 };
        await _store.TryReserveAttemptAsync(Tenant, Caller, isPush: false, policy, CancellationToken.None);
        _core.Clock.Advance(TimeSpan.FromDays(2) - TimeSpan.FromSeconds(1));
        Assert.Equal(CallerGate.CoolingDown, await GateAsync());
        _core.Clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(CallerGate.Open, await GateAsync());
    }

    [Fact]
    public async Task Counters_WithoutCooldown_ExpireAfterADayOfQuiet()
    {
        await ReserveAsync();
        _core.Clock.Advance(TimeSpan.FromDays(1) - TimeSpan.FromSeconds(1));
        Assert.Equal(1, (await CountersAsync()).TotalFailures);
        _core.Clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Null(await _core.Documents.GetAsync(new DocumentKey(CollectionPath.ForTenant(Tenant, "callerCounters"), Caller)));
    }

    [Fact]
    public async Task TotalFailures_AtTheHundredthEveryChallengeAndActionRefused_WhateverTheCooldowns()
    {
        var policy = new VerificationPolicySettings { MaxFailuresBeforeCooldown = 10, CooldownMinutes = 1 };
        for (var i = 0; i < VerificationStore.MaxTotalFailures - 1; i++)
        {
            Assert.Equal(CallerGate.Open, (await _store.TryReserveAttemptAsync(Tenant, Caller, isPush: false, policy, CancellationToken.None)).Gate);
            _core.Clock.Advance(TimeSpan.FromMinutes(1));
        }

        Assert.Equal(CallerGate.Open, await GateAsync(forAction: true));
        Assert.Equal(CallerGate.Open, (await _store.TryReserveAttemptAsync(Tenant, Caller, isPush: false, policy, CancellationToken.None)).Gate);
        _core.Clock.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(CallerGate.TotalFailureLimit, await GateAsync());
        Assert.Equal(CallerGate.TotalFailureLimit, await GateAsync(forAction: true));
        Assert.Equal((CallerGate.TotalFailureLimit, null), await _store.TryReserveAttemptAsync(Tenant, Caller, isPush: false, policy, CancellationToken.None));
    }

    [Fact]
    public async Task ReservePush_ThreePerWindow_TheFourthRefused_UntilTheFirstLeavesTheWindow()
    {
        var policy = new VerificationPolicySettings { MaxFailuresBeforeCooldown = 10, MaxPushesPerWindow = 3, PushWindowMinutes = 10 };
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(CallerGate.Open, (await _store.TryReserveAttemptAsync(Tenant, Caller, isPush: true, policy, CancellationToken.None)).Gate);
            _core.Clock.Advance(TimeSpan.FromMinutes(1));
        }

        Assert.Equal(3, (await CountersAsync()).RecentPushes.Count);
        Assert.Equal((CallerGate.PushLimit, null), await _store.TryReserveAttemptAsync(Tenant, Caller, isPush: true, policy, CancellationToken.None));
        Assert.Equal(3, (await CountersAsync()).TotalFailures);

        // A code is not a push: it is not held back by the push limit.
        Assert.Equal(CallerGate.Open, (await _store.TryReserveAttemptAsync(Tenant, Caller, isPush: false, policy, CancellationToken.None)).Gate);

        // The first push was 3 minutes ago; at exactly 10 minutes it is out of the window.
        _core.Clock.Advance(TimeSpan.FromMinutes(7) - TimeSpan.FromTicks(1));
        Assert.Equal(CallerGate.PushLimit, (await _store.TryReserveAttemptAsync(Tenant, Caller, isPush: true, policy, CancellationToken.None)).Gate);
        _core.Clock.Advance(TimeSpan.FromTicks(1));
        Assert.Equal(CallerGate.Open, (await _store.TryReserveAttemptAsync(Tenant, Caller, isPush: true, policy, CancellationToken.None)).Gate);
        Assert.Equal(3, (await CountersAsync()).RecentPushes.Count);
    }
}

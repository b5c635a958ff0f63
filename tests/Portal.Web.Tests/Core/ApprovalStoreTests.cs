using Portal.Web.Agents;
using Portal.Web.Verification.Actions;

namespace Portal.Web.Tests.Core;

/// <summary>The second agent's approval (V7): four eyes, once, for one verification and action, while it lives.</summary>
public sealed class ApprovalStoreTests : IDisposable
{
    private const string Tenant = "acme";
    private const string Verification = "0123456789abcdef0123456789abcdef";

    private static readonly AgentContext Requester = new(Tenant, "11111111111111111111111111111111", "agent-requester", "r***@h***.example", []);
    private static readonly AgentContext Decider = new(Tenant, "22222222222222222222222222222222", "agent-decider", "d***@h***.example", []);

    private readonly CoreStore _core = new();
    private readonly ApprovalStore _approvals;

    public ApprovalStoreTests() => _approvals = new ApprovalStore(_core.Documents, _core.Clock);

    public void Dispose() => _core.Dispose();

    private ApprovalRequest Request(string action = "mfa_reset", TimeSpan? lifetime = null, string verification = Verification) => new()
    {
        Id = ApprovalStore.IdFor(TestIds.Verification(verification), action),
        TenantId = Tenant,
        VerificationId = verification,
        Action = action,
        Permission = "caller.mfa_reset",
        RequesterSubject = Requester.Subject,
        RequesterMaskedLogin = Requester.MaskedLogin,
        CallerIdHash = "caller-hash",
        CallerMaskedLogin = "c***@e***.com",
        State = ApprovalState.Pending,
        CreatedAt = _approvals.Now,
        ExpiresAt = _approvals.Now + (lifetime ?? TimeSpan.FromMinutes(10)),
    };

    [Fact]
    public void IdFor_IsTheVerificationAndTheAction()
    {
        Assert.Equal(Verification + ".mfa_reset", ApprovalStore.IdFor(TestIds.Verification(Verification), "mfa_reset"));
        Assert.Equal(_core.Clock.GetUtcNow(), _approvals.Now);
    }

    [Fact]
    public void IdBeforeVerifying_IsPerAgentCallerAndAction_AndAWellFormedId()
    {
        var id = ApprovalStore.IdBeforeVerifying(Requester.Subject, "caller-hash", "mfa_reset");

        Assert.Matches("^[0-9a-f]{32}\\.mfa_reset$", id);
        Assert.Equal(id, ApprovalStore.IdBeforeVerifying(Requester.Subject, "caller-hash", "mfa_reset"));
        Assert.NotEqual(id, ApprovalStore.IdBeforeVerifying(Decider.Subject, "caller-hash", "mfa_reset"));
        Assert.NotEqual(id, ApprovalStore.IdBeforeVerifying(Requester.Subject, "other-caller", "mfa_reset"));
        Assert.NotEqual(id, ApprovalStore.IdBeforeVerifying(Requester.Subject, "caller-hash", "tap_issue"));
    }

    private ApprovalRequest AskedAhead(DateTimeOffset? createdAt = null) => Request() with
    {
        Id = ApprovalStore.IdBeforeVerifying(Requester.Subject, "caller-hash", "mfa_reset"),
        VerificationId = "",
        CreatedAt = createdAt ?? _approvals.Now,
        ExpiresAt = (createdAt ?? _approvals.Now) + ApprovalStore.AskedAtLookupLifetime,
    };

    [Theory]
    [InlineData(ApprovalState.Pending, false)]
    [InlineData(ApprovalState.Approved, false)]
    [InlineData(ApprovalState.Rejected, false)]
    [InlineData(ApprovalState.Used, true)]
    public async Task AskBeforeVerifying_Again_ReplacesOnlyAUsedRequest(ApprovalState earlier, bool replaced)
    {
        var first = await _approvals.AskBeforeVerifyingAsync(AskedAhead(), CancellationToken.None);
        Assert.True(first.AskedBeforeVerifying);
        if (earlier != ApprovalState.Pending)
        {
            Assert.Equal(ApprovalDecisionResult.Decided, (await _approvals.DecideAsync(Tenant, first.Id, Decider, earlier != ApprovalState.Rejected, CancellationToken.None)).Result);
        }

        if (earlier == ApprovalState.Used)
        {
            Assert.True(await _approvals.TryUseAsync(Tenant, first.Id, Requester.Subject, CancellationToken.None));
        }

        _core.Clock.Advance(TimeSpan.FromMinutes(1));
        var again = await _approvals.AskBeforeVerifyingAsync(AskedAhead(), CancellationToken.None);

        Assert.Equal(replaced ? ApprovalState.Pending : earlier, again.State);
        Assert.Equal(replaced ? _approvals.Now : first.CreatedAt, again.CreatedAt);
        Assert.Equal(again.State, (await _approvals.GetAsync(Tenant, first.Id, CancellationToken.None))!.State);
    }

    [Fact]
    public async Task AskBeforeVerifying_AfterARejectionExpired_AsksAnew()
    {
        var first = await _approvals.AskBeforeVerifyingAsync(AskedAhead(), CancellationToken.None);
        await _approvals.DecideAsync(Tenant, first.Id, Decider, approve: false, CancellationToken.None);

        _core.Clock.Advance(ApprovalStore.AskedAtLookupLifetime);
        var again = await _approvals.AskBeforeVerifyingAsync(AskedAhead(), CancellationToken.None);

        Assert.Equal(ApprovalState.Pending, again.State);
        Assert.Equal(_approvals.Now, again.CreatedAt);
    }

    [Fact]
    public async Task Request_Twice_KeepsTheFirst()
    {
        var first = await _approvals.RequestAsync(Request(), CancellationToken.None);
        var second = await _approvals.RequestAsync(Request() with { RequesterSubject = "someone-else" }, CancellationToken.None);
        Assert.Equal(Requester.Subject, first.RequesterSubject);
        Assert.Equal(Requester.Subject, second.RequesterSubject);
        Assert.Equal(Requester.Subject, (await _approvals.GetAsync(Tenant, first.Id, CancellationToken.None))!.RequesterSubject);
    }

    [Theory]
    [InlineData("0123456789abcdef0123456789abcdef.")]
    [InlineData("0123456789abcdef0123456789abcdef-mfa_reset")]
    [InlineData("0123456789ABCDEF0123456789abcdef.mfa_reset")]
    [InlineData("0123456789abcdef0123456789abcdef.MFA_RESET")]
    [InlineData("0123456789abcdef0123456789abcdef.mfa-reset")]
    [InlineData("0123456789abcdef0123456789abcdef.mfa_reset_with_a_very_long_action_name_that_is_too_long")]
    [InlineData("")]
    public async Task MalformedId_NotFound(string id)
    {
        await _approvals.RequestAsync(Request(), CancellationToken.None);
        Assert.Null(await _approvals.GetAsync(Tenant, id, CancellationToken.None));
        Assert.Equal((ApprovalDecisionResult.NotFound, null), await _approvals.DecideAsync(Tenant, id, Decider, approve: true, CancellationToken.None));
    }

    [Fact]
    public async Task WellFormedId_OfTheLongestAction_Found()
    {
        var action = new string('a', 46);
        await _approvals.RequestAsync(Request(action), CancellationToken.None);
        Assert.NotNull(await _approvals.GetAsync(Tenant, ApprovalStore.IdFor(TestIds.Verification(Verification), action), CancellationToken.None));
        Assert.Null(await _approvals.GetAsync(Tenant, Verification + "." + new string('a', 47), CancellationToken.None));
        await _approvals.RequestAsync(Request("a"), CancellationToken.None);
        Assert.NotNull(await _approvals.GetAsync(Tenant, ApprovalStore.IdFor(TestIds.Verification(Verification), "a"), CancellationToken.None));
    }

    [Fact]
    public async Task Decide_ByTheRequesterThemselves_RefusedEvenFromAnotherSession()
    {
        var request = await _approvals.RequestAsync(Request(), CancellationToken.None);
        var (result, stored) = await _approvals.DecideAsync(Tenant, request.Id, Requester with { SessionId = "33333333333333333333333333333333" }, approve: true, CancellationToken.None);
        Assert.Equal(ApprovalDecisionResult.SelfApproval, result);
        Assert.Equal(ApprovalState.Pending, stored!.State);
        Assert.Equal(ApprovalState.Pending, (await _approvals.GetAsync(Tenant, request.Id, CancellationToken.None))!.State);
    }

    [Fact]
    public async Task Decide_Approve_RecordsTheDecider_ThenNotPending()
    {
        var request = await _approvals.RequestAsync(Request(), CancellationToken.None);
        _core.Clock.Advance(TimeSpan.FromMinutes(1));
        var (result, decided) = await _approvals.DecideAsync(Tenant, request.Id, Decider, approve: true, CancellationToken.None);
        Assert.Equal(ApprovalDecisionResult.Decided, result);
        Assert.Equal(ApprovalState.Approved, decided!.State);
        Assert.Equal(Decider.Subject, decided.DeciderSubject);
        Assert.Equal(Decider.MaskedLogin, decided.DeciderMaskedLogin);
        Assert.Equal(_core.Clock.GetUtcNow(), decided.DecidedAt);
        Assert.Equal(ApprovalState.Approved, (await _approvals.GetAsync(Tenant, request.Id, CancellationToken.None))!.State);

        var (again, current) = await _approvals.DecideAsync(Tenant, request.Id, Decider, approve: false, CancellationToken.None);
        Assert.Equal(ApprovalDecisionResult.NotPending, again);
        Assert.Equal(ApprovalState.Approved, current!.State);
    }

    [Fact]
    public async Task Decide_Reject_IsRejected()
    {
        var request = await _approvals.RequestAsync(Request(), CancellationToken.None);
        var (result, decided) = await _approvals.DecideAsync(Tenant, request.Id, Decider, approve: false, CancellationToken.None);
        Assert.Equal(ApprovalDecisionResult.Decided, result);
        Assert.Equal(ApprovalState.Rejected, decided!.State);
        Assert.False(await _approvals.TryUseAsync(Tenant, request.Id, Requester.Subject, CancellationToken.None));
    }

    [Fact]
    public async Task Decide_AtTheExpiryInstant_NotPending_OneTickBefore_Decided()
    {
        var late = await _approvals.RequestAsync(Request("mfa_reset"), CancellationToken.None);
        var inTime = await _approvals.RequestAsync(Request("tap_issue", TimeSpan.FromMinutes(10) + TimeSpan.FromTicks(1)), CancellationToken.None);

        // The stored document outlives the request by nothing; a decision at the instant it expires finds it gone or not pending.
        _core.Clock.Advance(TimeSpan.FromMinutes(10));
        Assert.NotEqual(ApprovalDecisionResult.Decided, (await _approvals.DecideAsync(Tenant, late.Id, Decider, approve: true, CancellationToken.None)).Result);
        Assert.Equal(ApprovalDecisionResult.Decided, (await _approvals.DecideAsync(Tenant, inTime.Id, Decider, approve: true, CancellationToken.None)).Result);
    }

    [Fact]
    public async Task Decide_RequestStoredUnderAnotherTenant_NotFound()
    {
        // A request whose stored tenant is not the one asked about (a document copied across tenants) is no one's.
        var foreign = Request() with { TenantId = "other" };
        await _core.Documents.CreateAsync(
            new Portal.Storage.DocumentKey(ApprovalStore.Collection(Tenant), foreign.Id), Portal.Storage.DocumentJson.ToDocument(foreign), foreign.ExpiresAt);

        Assert.Equal((ApprovalDecisionResult.NotFound, null), await _approvals.DecideAsync(Tenant, foreign.Id, Decider, approve: true, CancellationToken.None));
        var approved = foreign with { State = ApprovalState.Approved };
        await _core.Documents.SetAsync(
            new Portal.Storage.DocumentKey(ApprovalStore.Collection(Tenant), foreign.Id), Portal.Storage.DocumentJson.ToDocument(approved), foreign.ExpiresAt);
        Assert.False(await _approvals.TryUseAsync(Tenant, foreign.Id, Requester.Subject, CancellationToken.None));
        Assert.Equal(ApprovalState.Approved, (await _approvals.GetAsync(Tenant, foreign.Id, CancellationToken.None))!.State);
    }

    [Fact]
    public async Task Decide_Unknown_NotFound()
    {
        Assert.Equal((ApprovalDecisionResult.NotFound, null), await _approvals.DecideAsync(Tenant, ApprovalStore.IdFor(TestIds.Verification(Verification), "mfa_reset"), Decider, approve: true, CancellationToken.None));
    }

    [Fact]
    public async Task Use_OnlyByTheRequester_OnlyOnceApproved_OnlyOnce()
    {
        var request = await _approvals.RequestAsync(Request(), CancellationToken.None);
        Assert.False(await _approvals.TryUseAsync(Tenant, request.Id, Requester.Subject, CancellationToken.None));

        await _approvals.DecideAsync(Tenant, request.Id, Decider, approve: true, CancellationToken.None);
        Assert.False(await _approvals.TryUseAsync(Tenant, request.Id, Decider.Subject, CancellationToken.None));
        Assert.False(await _approvals.TryUseAsync("other", request.Id, Requester.Subject, CancellationToken.None));
        Assert.True(await _approvals.TryUseAsync(Tenant, request.Id, Requester.Subject, CancellationToken.None));
        Assert.Equal(ApprovalState.Used, (await _approvals.GetAsync(Tenant, request.Id, CancellationToken.None))!.State);
        Assert.False(await _approvals.TryUseAsync(Tenant, request.Id, Requester.Subject, CancellationToken.None));
        Assert.False(await _approvals.TryUseAsync(Tenant, ApprovalStore.IdFor(TestIds.Verification(Verification), "tap_issue"), Requester.Subject, CancellationToken.None));
    }

    [Fact]
    public async Task Use_ApprovedButStoredPastItsExpiry_Refused()
    {
        // The document's own expiry is later than the request's: the request's time still counts.
        var request = Request() with { State = ApprovalState.Approved };
        await _core.Documents.CreateAsync(
            new Portal.Storage.DocumentKey(ApprovalStore.Collection(Tenant), request.Id), Portal.Storage.DocumentJson.ToDocument(request), request.ExpiresAt.AddHours(1));
        _core.Clock.Advance(TimeSpan.FromMinutes(10) - TimeSpan.FromTicks(1));
        var copy = request with { Id = ApprovalStore.IdFor(TestIds.Verification(Verification), "tap_issue"), Action = "tap_issue" };
        await _core.Documents.CreateAsync(
            new Portal.Storage.DocumentKey(ApprovalStore.Collection(Tenant), copy.Id), Portal.Storage.DocumentJson.ToDocument(copy), copy.ExpiresAt.AddHours(1));
        Assert.True(await _approvals.TryUseAsync(Tenant, copy.Id, Requester.Subject, CancellationToken.None));

        _core.Clock.Advance(TimeSpan.FromTicks(1));
        Assert.False(await _approvals.TryUseAsync(Tenant, request.Id, Requester.Subject, CancellationToken.None));
        Assert.Equal(ApprovalState.Approved, (await _approvals.GetAsync(Tenant, request.Id, CancellationToken.None))!.State);

        var pending = request with { Id = ApprovalStore.IdFor(TestIds.Verification(Verification), "account_unlock"), Action = "account_unlock", State = ApprovalState.Pending };
        await _core.Documents.CreateAsync(
            new Portal.Storage.DocumentKey(ApprovalStore.Collection(Tenant), pending.Id), Portal.Storage.DocumentJson.ToDocument(pending), pending.ExpiresAt.AddHours(1));
        Assert.Equal(ApprovalDecisionResult.NotPending, (await _approvals.DecideAsync(Tenant, pending.Id, Decider, approve: true, CancellationToken.None)).Result);
        Assert.Empty(await _approvals.PendingAsync(Tenant, CancellationToken.None));
    }

    [Fact]
    public async Task Pending_ListsLivePendingRequestsOldestFirst()
    {
        var decided = await _approvals.RequestAsync(Request("account_unlock"), CancellationToken.None);
        await _approvals.DecideAsync(Tenant, decided.Id, Decider, approve: true, CancellationToken.None);
        _core.Clock.Advance(TimeSpan.FromSeconds(1));
        var second = await _approvals.RequestAsync(Request("tap_issue"), CancellationToken.None);
        _core.Clock.Advance(TimeSpan.FromSeconds(1));
        var third = await _approvals.RequestAsync(Request("password_reset"), CancellationToken.None);
        var first = await _approvals.RequestAsync(Request("mfa_reset") with { CreatedAt = _approvals.Now.AddMinutes(-1) }, CancellationToken.None);

        var pending = await _approvals.PendingAsync(Tenant, CancellationToken.None);
        Assert.Equal([first.Id, second.Id, third.Id], pending.Select(p => p.Id));
    }
}

using Portal.Idp;
using Portal.Web.Platform;
using Portal.Web.Verification;

namespace Portal.Web.Tests.Core;

/// <summary>
/// <see cref="ExecutiveTargets.ChainHolds"/>, the rule the action applies to an executive target (docs/tenancy.md,
/// "Executive targets: two independent methods"): the second verification's named first is read again, and the chain
/// holds only when that first is the same tenant's, agent session's, agent's and caller's, by the other method named,
/// and both are live. A prior stored from anywhere else does not make it hold, whatever the second names.
/// </summary>
public sealed class ExecutiveTargetsTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 23, 9, 0, 0, TimeSpan.Zero);

    private static readonly VerificationSession First = new()
    {
        Id = PortalIds.New(),
        TenantId = "acme",
        AgentSessionId = "0123456789abcdef0123456789abcdef",
        AgentSubject = "agent-sub-1",
        CallerIdHash = "caller-hash-1",
        CallerMaskedLogin = "v***@e***.com",
        CallerRefProtected = "protected",
        Method = VerificationMethods.OktaTotp,
        VerifiedAt = Now.AddMinutes(-2),
        ExpiresAt = Now.AddMinutes(8),
    };

    private static readonly VerificationSession Second = First with
    {
        Id = PortalIds.New(),
        Method = VerificationMethods.OktaPush,
        VerifiedAt = Now,
        ExpiresAt = Now.AddMinutes(10),
        PriorVerificationId = First.Id,
        PriorMethod = VerificationMethods.OktaTotp,
    };

    [Fact]
    public void SameTenantAgentSessionAgentAndCaller_OtherMethod_BothLive_Holds() =>
        Assert.True(ExecutiveTargets.ChainHolds(Second, First, Now));

    [Fact]
    public void PriorOfAnotherAgentSession_DoesNotHold() =>
        Assert.False(ExecutiveTargets.ChainHolds(Second, First with { AgentSessionId = "fedcba9876543210fedcba9876543210" }, Now));

    [Fact]
    public void PriorOfTheSameSessionIdButAnotherAgent_DoesNotHold() =>
        Assert.False(ExecutiveTargets.ChainHolds(Second, First with { AgentSubject = "agent-sub-2" }, Now));

    [Fact]
    public void PriorOfAnotherCaller_DoesNotHold() =>
        Assert.False(ExecutiveTargets.ChainHolds(Second, First with { CallerIdHash = "caller-hash-2" }, Now));

    [Fact]
    public void PriorOfAnotherTenant_DoesNotHold() =>
        Assert.False(ExecutiveTargets.ChainHolds(Second, First with { TenantId = "globex" }, Now));

    [Fact]
    public void PriorByTheSameMethod_DoesNotHold()
    {
        // Named honestly as the same method, or named as another while the stored prior is of the second's own method.
        var samePush = First with { Method = VerificationMethods.OktaPush };
        Assert.False(ExecutiveTargets.ChainHolds(Second with { PriorMethod = VerificationMethods.OktaPush }, samePush, Now));
        Assert.False(ExecutiveTargets.ChainHolds(Second, samePush, Now));
    }

    [Fact]
    public void PriorOtherThanTheOneNamed_DoesNotHold() =>
        Assert.False(ExecutiveTargets.ChainHolds(Second, First with { Id = PortalIds.New() }, Now));

    [Fact]
    public void NoPriorNamed_OrNoneFound_DoesNotHold()
    {
        Assert.False(ExecutiveTargets.ChainHolds(Second with { PriorVerificationId = null, PriorMethod = null }, First, Now));
        Assert.False(ExecutiveTargets.ChainHolds(Second with { PriorMethod = null }, First, Now));
        Assert.False(ExecutiveTargets.ChainHolds(Second, null, Now));
    }

    [Fact]
    public void EitherEnded_DoesNotHold_AtTheInstantItEnds()
    {
        Assert.True(ExecutiveTargets.ChainHolds(Second, First, First.ExpiresAt - TimeSpan.FromTicks(1)));
        Assert.False(ExecutiveTargets.ChainHolds(Second, First, First.ExpiresAt));
        Assert.False(ExecutiveTargets.ChainHolds(Second with { ExpiresAt = Now.AddMinutes(5) }, First, Now.AddMinutes(5)));
    }
}

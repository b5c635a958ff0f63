using Portal.Idp;
using Portal.Web.Tenancy;
using Portal.Web.Verification;

namespace Portal.Web.Tests.Core;

/// <summary>
/// The verdict on a privileged target (V7) for every answer the IdP can give: not privileged only when both answers are
/// known and say so; a refusal to say counts as privileged (fail closed); an IdP that does not answer is told as such,
/// with its error, since no approval would let an action through then.
/// </summary>
public sealed class PrivilegedTargetsTests
{
    private const string CallerId = "00u-caller-1";

    private static readonly IdpError Refused = new(IdpErrorKind.AccessDenied, "missing_scope", "No scope.");
    private static readonly IdpError Down = new(IdpErrorKind.Unavailable, "idp_unavailable", "Down.");
    private static readonly IdpError Throttled = new(IdpErrorKind.RateLimited, "E0000047", "Slow down.");

    private readonly FakeDirectory _directory = new();

    private static TenantSettings Tenant(IdpKind kind = IdpKind.Okta, params string[] privilegedGroups) =>
        new() { Id = "acme", Idp = new TenantIdpSettings { Kind = kind }, PrivilegedGroups = [.. privilegedGroups] };

    private static IdpResult<IReadOnlyList<string>> Names(params string[] names) => IdpResult<IReadOnlyList<string>>.Success(names);

    private Task<PrivilegeVerdict> CheckAsync(TenantSettings tenant) => PrivilegedTargets.CheckAsync(_directory, tenant, CallerId, CancellationToken.None);

    [Fact]
    public async Task NoAdminRole_NoPrivilegedGroupsNamed_NotPrivileged_GroupsNeverAsked()
    {
        var verdict = await CheckAsync(Tenant());

        Assert.Equal(new PrivilegeVerdict(PrivilegeState.NotPrivileged, false, false, null), verdict);
        Assert.False(verdict.NeedsApproval);
        Assert.Equal([CallerId], _directory.RoleLookups);
        Assert.Empty(_directory.GroupLookups);
    }

    [Fact]
    public async Task Okta_InAPrivilegedGroup_AnyCase_Privileged()
    {
        _directory.Groups = () => Names("Everyone", "HELPDESK admins");

        var verdict = await CheckAsync(Tenant(IdpKind.Okta, "Helpdesk Admins"));

        Assert.Equal(new PrivilegeVerdict(PrivilegeState.Privileged, false, false, null), verdict);
        Assert.True(verdict.NeedsApproval);
        Assert.Equal([CallerId], _directory.GroupLookups);
    }

    [Fact]
    public async Task Okta_InNoPrivilegedGroup_NotPrivileged()
    {
        _directory.Groups = () => Names("Everyone", "Helpdesk");

        var verdict = await CheckAsync(Tenant(IdpKind.Okta, "Helpdesk Admins"));

        Assert.Equal(PrivilegeState.NotPrivileged, verdict.State);
        Assert.Equal([CallerId], _directory.GroupLookups);
    }

    [Fact]
    public async Task AnAdminRole_Privileged_TheGroupsNotAskedThen()
    {
        _directory.Roles = () => Names("SUPER_ADMIN");

        var verdict = await CheckAsync(Tenant(IdpKind.Okta, "Helpdesk Admins"));

        Assert.Equal(new PrivilegeVerdict(PrivilegeState.Privileged, false, false, null), verdict);
        Assert.Empty(_directory.GroupLookups);
    }

    [Fact]
    public async Task Entra_PrivilegedGroupsNamed_GroupsNeverAsked_TheRolesAlone_Decide()
    {
        // On Entra the directory's role listing already names role-assignable groups; the tenant's groups are Okta's.
        var verdict = await CheckAsync(Tenant(IdpKind.Entra, "Helpdesk Admins"));
        Assert.Equal(PrivilegeState.NotPrivileged, verdict.State);
        Assert.Empty(_directory.GroupLookups);

        _directory.Roles = () => Names("role-assignable group: Tier Zero");
        Assert.Equal(PrivilegeState.Privileged, (await CheckAsync(Tenant(IdpKind.Entra, "Helpdesk Admins"))).State);
    }

    [Fact]
    public async Task RolesRefused_Unknown_RolesUnknown_NeedsApproval_GroupsNotAsked()
    {
        _directory.Roles = () => Refused;

        var verdict = await CheckAsync(Tenant(IdpKind.Okta, "Helpdesk Admins"));

        Assert.Equal(new PrivilegeVerdict(PrivilegeState.Unknown, RolesUnknown: true, GroupsUnknown: false, null) { UnknownBecause = Refused }, verdict);
        Assert.True(verdict.NeedsApproval);
        Assert.Empty(_directory.GroupLookups);
    }

    [Fact]
    public async Task GroupsRefused_Unknown_GroupsUnknown_NeedsApproval()
    {
        _directory.Groups = () => Refused;

        var verdict = await CheckAsync(Tenant(IdpKind.Okta, "Helpdesk Admins"));

        Assert.Equal(new PrivilegeVerdict(PrivilegeState.Unknown, RolesUnknown: false, GroupsUnknown: true, null) { UnknownBecause = Refused }, verdict);
        Assert.True(verdict.NeedsApproval);
    }

    [Fact]
    public async Task RolesUnavailableOrRateLimited_IdpUnavailable_WithTheIdpsError_NoApprovalWouldHelp()
    {
        foreach (var error in new[] { Down, Throttled })
        {
            _directory.Roles = () => error;
            var verdict = await CheckAsync(Tenant(IdpKind.Okta, "Helpdesk Admins"));
            Assert.Equal(new PrivilegeVerdict(PrivilegeState.IdpUnavailable, RolesUnknown: true, GroupsUnknown: false, error), verdict);
            Assert.False(verdict.NeedsApproval);
        }
    }

    [Fact]
    public async Task GroupsUnavailable_IdpUnavailable_WithTheGroupsError()
    {
        _directory.Groups = () => Down;

        var verdict = await CheckAsync(Tenant(IdpKind.Okta, "Helpdesk Admins"));

        Assert.Equal(new PrivilegeVerdict(PrivilegeState.IdpUnavailable, RolesUnknown: false, GroupsUnknown: true, Down), verdict);
    }

    [Fact]
    public async Task IdpUnreachable_ThrownOnRolesOrGroups_IdpUnavailable_Unreachable()
    {
        _directory.Roles = () => throw new HttpRequestException("down");
        var roles = await CheckAsync(Tenant(IdpKind.Okta, "Helpdesk Admins"));
        Assert.Equal((PrivilegeState.IdpUnavailable, true, "unreachable"), (roles.State, roles.RolesUnknown, roles.Down?.Code));
        Assert.Equal(IdpErrorKind.Unavailable, roles.Down!.Kind);

        _directory.Roles = () => Names();
        _directory.Groups = () => throw new TaskCanceledException("timed out");
        var groups = await CheckAsync(Tenant(IdpKind.Okta, "Helpdesk Admins"));
        Assert.Equal((PrivilegeState.IdpUnavailable, "unreachable"), (groups.State, groups.Down?.Code));
    }
}

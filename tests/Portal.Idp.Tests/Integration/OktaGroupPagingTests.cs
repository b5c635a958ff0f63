using Microsoft.Extensions.DependencyInjection;
using Portal.Idp.Okta;
using Portal.IdpEmulator;

namespace Portal.Idp.Tests.Integration;

/// <summary>
/// A user's groups over more than one of Okta's pages (listUserGroups: 200 a page, a <c>Link: rel="next"</c> with an
/// <c>after</c> cursor), against the emulator over real HTTP: every page is read, a next link on another host is
/// refused without sending anything there, and past the page limit the answer is an error, never a partial list.
/// </summary>
public sealed class OktaGroupPagingTests : IAsyncLifetime
{
    private const string Token = "paging-okta-token-3b7d";
    private const string Privileged = "Paged Admins";

    private readonly EmulatorOptions _options = new() { OktaApiToken = Token };
    private EmulatorHost _emulator = null!;
    private ServiceProvider _services = null!;

    public async Task InitializeAsync()
    {
        _emulator = await EmulatorHost.StartAsync(_options);
        _services = new ServiceCollection().AddLogging().AddPortalIdp().BuildServiceProvider();
    }

    public async Task DisposeAsync()
    {
        await _services.DisposeAsync();
        await _emulator.DisposeAsync();
    }

    [Fact]
    public async Task PrivilegedGroupOnThePageAfterTheFirst_Listed_BothPagesRead()
    {
        var caller = CallerInGroups(252, then: Privileged);

        var result = await Okta().ListGroupsAsync(caller.Id);

        Assert.True(result.IsSuccess, result.Error?.Code);
        Assert.Equal(252, result.Value.Count);
        Assert.Equal(caller.Groups, result.Value);
        Assert.Contains(Privileged, result.Value);
        var pages = GroupRequests(caller);
        Assert.Equal(2, pages.Count);
        Assert.Equal($"/api/v1/users/{caller.Id}/groups?limit={OktaCallerDirectory.GroupPageSize}", pages[0].PathAndQuery);
        Assert.Contains("after=", pages[1].PathAndQuery, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NextLinkOnAnotherHost_Refused_NothingSentThere()
    {
        // The org writes its links on localhost while the tenant is configured with 127.0.0.1: another origin.
        _options.PublicUrl = "http://localhost:" + _emulator.BaseUrl.Port + "/";
        var caller = CallerInGroups(252, then: Privileged);

        var result = await Okta().ListGroupsAsync(caller.Id);

        Assert.False(result.IsSuccess);
        Assert.Equal(IdpErrorKind.Invalid, result.Error.Kind);
        Assert.Equal("next_link_untrusted", result.Error.Code);
        Assert.Contains(_options.PublicUrl.TrimEnd('/'), result.Error.AgentMessage, StringComparison.Ordinal);
        Assert.Contains("Test connection", result.Error.AgentMessage, StringComparison.Ordinal);
        var only = Assert.Single(GroupRequests(caller));
        Assert.StartsWith("127.0.0.1", only.Host, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NextLinkOnTheCanonicalHostTheConnectionTestFound_Followed_FromTheConfiguredUrl()
    {
        _options.PublicUrl = "http://localhost:" + _emulator.BaseUrl.Port + "/";
        var caller = CallerInGroups(252, then: Privileged);

        var result = await Okta(canonical: new Uri(_options.PublicUrl)).ListGroupsAsync(caller.Id);

        Assert.True(result.IsSuccess, result.Error?.Code);
        Assert.Contains(Privileged, result.Value);
        Assert.All(GroupRequests(caller), r => Assert.StartsWith("127.0.0.1", r.Host, StringComparison.Ordinal));
    }

    [Fact]
    public async Task AsManyGroupsAsThePageLimitHolds_AllListed()
    {
        var caller = CallerInGroups(OktaCallerDirectory.MaxGroupPages * OktaCallerDirectory.GroupPageSize, then: Privileged);

        var result = await Okta().ListGroupsAsync(caller.Id);

        Assert.True(result.IsSuccess, result.Error?.Code);
        Assert.Equal(OktaCallerDirectory.MaxGroupPages * OktaCallerDirectory.GroupPageSize, result.Value.Count);
        Assert.Equal(Privileged, result.Value[^1]);
        Assert.Equal(OktaCallerDirectory.MaxGroupPages, GroupRequests(caller).Count);
    }

    [Fact]
    public async Task MoreGroupsThanThePageLimitHolds_AnError_NotTheGroupsReadSoFar()
    {
        var caller = CallerInGroups((OktaCallerDirectory.MaxGroupPages * OktaCallerDirectory.GroupPageSize) + 1, then: Privileged);

        var result = await Okta().ListGroupsAsync(caller.Id);

        Assert.False(result.IsSuccess);
        Assert.Equal(IdpErrorKind.Invalid, result.Error.Kind);
        Assert.Equal("too_many_groups", result.Error.Code);
        Assert.Equal(OktaCallerDirectory.TooManyGroupsMessage, result.Error.AgentMessage);
        Assert.Equal(OktaCallerDirectory.MaxGroupPages, GroupRequests(caller).Count);
    }

    /// <summary>A caller in <paramref name="count"/> groups: "Everyone", ordinary ones, and last <paramref name="then"/>.</summary>
    private DemoCaller CallerInGroups(int count, string then)
    {
        var login = $"g{Guid.NewGuid():N}@demo.example";
        var caller = _emulator.State.AddCaller(login, login, "Many", "Groups");
        _emulator.State.AddToManyGroups(login, "Project", count - 2);
        _emulator.State.AddToGroup(login, then);
        return caller;
    }

    private List<RecordedRequest> GroupRequests(DemoCaller caller) =>
        [.. _emulator.State.Requests.Where(r => r.Method == "GET" && r.PathAndQuery.StartsWith($"/api/v1/users/{caller.Id}/groups", StringComparison.Ordinal))];

    private ICallerDirectory Okta(Uri? canonical = null) =>
        _services.GetRequiredService<ICallerDirectoryFactory>().Create(new IdpConnection("tenant-paging", IdpKind.Okta, _emulator.BaseUrl, Token)
        {
            Okta = new OktaConnectionSettings { CanonicalBaseUrl = canonical },
        });
}

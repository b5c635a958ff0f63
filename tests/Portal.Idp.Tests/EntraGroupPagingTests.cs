using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Portal.Idp.Entra;
using Portal.IdpEmulator;

namespace Portal.Idp.Tests;

/// <summary>
/// An Entra caller's groups over more than one page of Graph's transitiveMemberOf (999 a page, <c>@odata.nextLink</c>),
/// through the real Graph SDK against the emulator: every page is read, a next link on another host is refused without
/// sending anything there, and past the page limit the answer is an error, never the reasons read so far.
/// </summary>
public sealed class EntraGroupPagingTests : IAsyncLifetime
{
    private const string ClientId = "0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d";
    private const string ClientSecret = "entra-secret-for-tests";
    private const string DirectoryId = "7d5e1c0a-2b3c-4d5e-8f90-a1b2c3d4e5f6";
    private const int PageSize = 999;

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 3, 1, 9, 0, 0, TimeSpan.Zero));
    private readonly EmulatorOptions _options = new() { OktaApiToken = "unused-okta-token" };
    private EmulatorHost _host = null!;
    private ServiceProvider _services = null!;

    public async Task InitializeAsync()
    {
        _options.TimeProvider = _time;
        _options.GraphClients.Add(new EmulatorClient(ClientId, ClientSecret));
        _host = await EmulatorHost.StartAsync(_options);
        _services = new ServiceCollection().AddLogging().AddSingleton<TimeProvider>(_time).AddPortalEntra().BuildServiceProvider();
    }

    public async Task DisposeAsync()
    {
        await _services.DisposeAsync();
        await _host.DisposeAsync();
    }

    [Fact]
    public async Task RoleAssignableGroupOnThePageAfterTheFirst_Listed_BothPagesRead()
    {
        var user = CallerInGroups(PageSize + 1);

        var result = await Create().ListGroupsAsync(user.Id);

        Assert.True(result.IsSuccess, result.Error?.Code);
        Assert.Equal(["role-assignable group: Project " + (PageSize + 1)], result.Value);
        Assert.Equal(2, GroupRequests(user).Count);
    }

    [Fact]
    public async Task NextLinkOnAnotherHost_Refused_NothingSentThere()
    {
        var user = CallerInGroups(PageSize + 1);
        var directory = Create();
        Assert.True((await directory.FindCallerAsync(user.UserPrincipalName)).IsSuccess);

        // Graph writes its links on localhost while the tenant is configured with 127.0.0.1: another origin.
        _options.PublicUrl = "http://localhost:" + _host.BaseUrl.Port + "/";
        var result = await directory.ListGroupsAsync(user.Id);

        Assert.False(result.IsSuccess);
        Assert.Equal(IdpErrorKind.Invalid, result.Error.Kind);
        Assert.Equal("next_link_untrusted", result.Error.Code);
        var only = Assert.Single(GroupRequests(user));
        Assert.StartsWith("127.0.0.1", only.Host, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MoreGroupsThanThePageLimitHolds_AnError_NotTheReasonsReadSoFar()
    {
        var user = CallerInGroups((GraphCallerDirectory.MaxPages * PageSize) + 1);

        var result = await Create().ListGroupsAsync(user.Id);

        Assert.False(result.IsSuccess);
        Assert.Equal(IdpErrorKind.Invalid, result.Error.Kind);
        Assert.Equal("too_many_pages", result.Error.Code);
        Assert.Equal(GraphCallerDirectory.TooManyPagesMessage, result.Error.AgentMessage);
        Assert.Equal(GraphCallerDirectory.MaxPages, GroupRequests(user).Count);
    }

    [Fact]
    public async Task AsManyGroupsAsThePageLimitHolds_AllRead()
    {
        var user = CallerInGroups(GraphCallerDirectory.MaxPages * PageSize);

        var result = await Create().ListGroupsAsync(user.Id);

        Assert.True(result.IsSuccess, result.Error?.Code);
        Assert.Single(result.Value);
        Assert.Equal(GraphCallerDirectory.MaxPages, GroupRequests(user).Count);
    }

    /// <summary>An Entra user in <paramref name="count"/> ordinary groups, the last of them role-assignable.</summary>
    private EntraUser CallerInGroups(int count)
    {
        var upn = $"g{Guid.NewGuid():N}@entra.example";
        var user = _host.State.AddEntraUser(upn, "Many Groups");
        _host.State.AddToEntraGroups(upn, "Project", count, lastRoleAssignable: true);
        return user;
    }

    private List<RecordedRequest> GroupRequests(EntraUser user) =>
        [.. _host.State.Requests.Where(r => r.Method == "GET" && r.PathAndQuery.Contains($"/users/{user.Id}/transitiveMemberOf/", StringComparison.Ordinal))];

    private ICallerDirectory Create() =>
        _services.GetRequiredKeyedService<ICallerDirectoryFactory>(IdpKind.Entra).Create(new IdpConnection("tenant-1", IdpKind.Entra, _host.BaseUrl, ClientSecret)
        {
            Entra = new EntraAppCredentials(DirectoryId, ClientId, new Uri(_host.BaseUrl, DirectoryId + "/oauth2/v2.0/token")),
        });
}

using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Portal.Idp.Entra;
using Portal.IdpEmulator;

namespace Portal.Idp.Tests;

/// <summary>
/// The Entra adapter's manager look-up (<c>/users/{id}/manager</c>, through the real Microsoft.Graph SDK) and the work
/// phone on file (<c>businessPhones</c>), over HTTP against one emulator of this class's own, every log line captured.
/// </summary>
public sealed class EntraManagerTests(EntraManagerTests.Host host) : IClassFixture<EntraManagerTests.Host>
{
    private const string Grace = "grace.caller@entra.example";
    private const string Riley = "riley.director@entra.example";

    private EmulatorState State => host.State;

    private ICallerDirectory Directory => host.Directory;

    [Fact]
    public async Task GetManager_SeededGrace_IsRileyAsAUserOfTheDirectory()
    {
        var result = await Directory.GetManagerAsync(IdOf(Grace));

        Assert.True(result.IsSuccess, result.Error?.Code);
        Assert.Equal(IdOf(Riley), result.Value.Id);
        Assert.Equal(Riley, result.Value.Login);
        Assert.Equal(CallerStatus.Active, result.Value.Status);
        Assert.Equal("Riley Director", result.Value.Details.DisplayName);
        Assert.Equal("+1 555 0100 141", result.Value.Details.WorkPhone);
        var sent = Uri.UnescapeDataString(State.Requests.Last(r => r.PathAndQuery.Contains("/manager", StringComparison.Ordinal)).PathAndQuery);
        Assert.StartsWith($"/v1.0/users/{IdOf(Grace)}/manager?", sent, StringComparison.Ordinal);
        Assert.Contains("businessPhones", sent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetManager_TestsOwnPair_IsThatManager()
    {
        var (report, manager) = NewPair();

        var result = await Directory.GetManagerAsync(report.Id);

        Assert.True(result.IsSuccess, result.Error?.Code);
        Assert.Equal(manager.Id, result.Value.Id);
        Assert.Equal(manager.UserPrincipalName, result.Value.Login);
    }

    [Fact]
    public async Task GetManager_Riley_HisAddressOnFileAndAStrongMethodForHisOwnStepUp()
    {
        // What an Entra manager approval needs of the manager (docs/recovery.md): the address the link goes to, and a
        // strong method the manager's step-up sign-in can use (the adapter offers the step-up factor only then).
        var manager = await Directory.GetManagerAsync(IdOf(Grace));
        var factors = await Directory.ListFactorsAsync(manager.Value.Id);

        Assert.Equal(Riley, manager.Value.Email);
        Assert.True(factors.IsSuccess, factors.Error?.Code);
        Assert.Contains(factors.Value, f => f.Method == "oidc.stepup");
    }

    [Fact]
    public async Task GetManager_ManagerWithAPhoneMethodOnly_NoStepUpFactor()
    {
        var report = NewUser();
        var manager = State.AddEntraUser($"m{Guid.NewGuid():N}@entra.example", "Qmanager Qphoneonly", authenticator: false);
        State.SetEntraManager(report.UserPrincipalName, manager.UserPrincipalName);

        var found = await Directory.GetManagerAsync(report.Id);
        var factors = await Directory.ListFactorsAsync(found.Value.Id);

        Assert.True(factors.IsSuccess, factors.Error?.Code);
        Assert.NotEmpty(factors.Value);
        Assert.DoesNotContain(factors.Value, f => f.Method == "oidc.stepup");
    }

    [Fact]
    public async Task GetManager_ManagersAccountDisabled_ReadAsNotActive()
    {
        var (report, manager) = NewPair();
        manager.AccountEnabled = false;

        var result = await Directory.GetManagerAsync(report.Id);

        Assert.True(result.IsSuccess, result.Error?.Code);
        Assert.Equal(manager.Id, result.Value.Id);
        Assert.NotEqual(CallerStatus.Active, result.Value.Status);
        Assert.Contains("accountEnabled", Uri.UnescapeDataString(State.Requests.Last(r => r.PathAndQuery.Contains("/manager", StringComparison.Ordinal)).PathAndQuery), StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetManager_NoManager_GraphsNotFoundIsNoManager()
    {
        var result = await Directory.GetManagerAsync(IdOf("heidi.caller@entra.example"));

        AssertNoManager(result);
    }

    [Fact]
    public async Task GetManager_ManagerIsAnOrganisationalContact_NoManager()
    {
        var report = NewUser();
        State.SetEntraManagerContact(report.UserPrincipalName, "Qcontact Qoutside");

        var result = await Directory.GetManagerAsync(report.Id);

        AssertNoManager(result);
        Assert.Contains(State.Requests, r => r.PathAndQuery.StartsWith($"/v1.0/users/{report.Id}/manager", StringComparison.Ordinal));
    }

    [Fact]
    public async Task GetManager_RateLimited_RateLimitedNotNoManager()
    {
        var (report, _) = NewPair();

        // As many as Graph's retry handler could send: the answer must be the rate limit, not a retried success.
        for (var i = 0; i < 3; i++)
        {
            State.FailNext(429, $"/users/{report.Id}/manager");
        }

        var result = await Directory.GetManagerAsync(report.Id);

        Assert.Equal(IdpErrorKind.RateLimited, result.Error?.Kind);
    }

    [Fact]
    public async Task GetManager_GraphDown_UnavailableNotNoManager()
    {
        var (report, _) = NewPair();
        State.SetOutage(true);
        try
        {
            var result = await Directory.GetManagerAsync(report.Id);

            Assert.Equal(IdpErrorKind.Unavailable, result.Error?.Kind);
        }
        finally
        {
            State.SetOutage(false);
        }
    }

    [Fact]
    public async Task GetManager_Refused_AccessDeniedNotNoManager()
    {
        var (report, _) = NewPair();
        State.FailNext(403, $"/users/{report.Id}/manager");

        var result = await Directory.GetManagerAsync(report.Id);

        Assert.Equal(IdpErrorKind.AccessDenied, result.Error?.Kind);
    }

    [Fact]
    public async Task GetManager_NotAGuid_InvalidWithoutCallingGraph()
    {
        var before = State.Requests.Count;

        var result = await Directory.GetManagerAsync("../users?$filter=x");

        Assert.Equal(IdpErrorKind.Invalid, result.Error?.Kind);
        Assert.Equal(before, State.Requests.Count);
    }

    [Fact]
    public async Task FindCaller_SeededGrace_ReadsTheFirstBusinessPhoneAndTheManagersName()
    {
        var result = await Directory.FindCallerAsync(Grace);

        Assert.True(result.IsSuccess, result.Error?.Code);
        Assert.Equal("+1 555 0100 140", result.Value.Details.WorkPhone);
        Assert.Equal("Riley Director", result.Value.Details.Manager);
    }

    [Fact]
    public async Task GetCaller_NoBusinessPhone_NoWorkPhone()
    {
        var user = NewUser();

        var result = await Directory.GetCallerAsync(user.Id);

        Assert.True(result.IsSuccess, result.Error?.Code);
        Assert.Null(result.Value.Details.WorkPhone);
    }

    [Fact]
    public async Task ManagerLookUp_Logs_CarryNoPhoneNameUpnOrId()
    {
        var (report, manager) = NewPair();

        var found = await Directory.GetManagerAsync(report.Id);
        var card = await Directory.GetCallerAsync(report.Id);
        for (var i = 0; i < 3; i++)
        {
            State.FailNext(503, $"/users/{report.Id}/manager");
        }

        await Directory.GetManagerAsync(report.Id);
        State.SetEntraManager(report.UserPrincipalName, null);
        await Directory.GetManagerAsync(report.Id);

        Assert.True(found.IsSuccess, found.Error?.Code);
        Assert.NotNull(card.Value.Details.WorkPhone);
        var messages = host.Messages.ToArray();
        Assert.Contains(messages, m => m.Contains("get_manager", StringComparison.Ordinal));
        string[] secrets = [report.BusinessPhones[0], manager.BusinessPhones[0], manager.DisplayName, manager.UserPrincipalName, manager.Id, report.UserPrincipalName, report.Id];
        foreach (var secret in secrets)
        {
            Assert.DoesNotContain(messages, m => m.Contains(secret, StringComparison.OrdinalIgnoreCase));
        }
    }

    private static void AssertNoManager<T>(IdpResult<T> result)
    {
        Assert.Equal(IdpErrorKind.NotFound, result.Error?.Kind);
        Assert.Equal("no_manager", result.Error?.Code);
    }

    private string IdOf(string upn) => State.FindEntraUser(upn)!.Id;

    private EntraUser NewUser(string? phone = null)
    {
        var upn = $"r{Guid.NewGuid():N}@entra.example";
        return State.AddEntraUser(upn, "Qreport Qcaller", businessPhone: phone);
    }

    /// <summary>An Entra report and manager of this test's own, each with a business phone.</summary>
    private (EntraUser Report, EntraUser Manager) NewPair()
    {
        var report = NewUser("+1 555 0100 160");
        var manager = State.AddEntraUser($"m{Guid.NewGuid():N}@entra.example", "Qmanager Qdirector", businessPhone: "+1 555 0100 161");
        State.SetEntraManager(report.UserPrincipalName, manager.UserPrincipalName);
        return (report, manager);
    }

    /// <summary>One emulator and the Entra adapter for this class, every log line at every level captured.</summary>
    public sealed class Host : IAsyncLifetime
    {
        private const string ClientId = "6c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f";
        private const string ClientSecret = "entra-manager-secret-for-tests";
        private const string DirectoryId = "8e6f2d1b-3c4d-4e5f-9a01-b2c3d4e5f607";
        private readonly ConcurrentQueue<string> _messages = new();
        private EmulatorHost? _emulator;
        private ServiceProvider? _services;

        public EmulatorState State => _emulator!.State;

        public ICallerDirectory Directory { get; private set; } = null!;

        public IReadOnlyCollection<string> Messages => _messages;

        public async Task InitializeAsync()
        {
            var options = new EmulatorOptions { OktaApiToken = "unused-okta-token" };
            options.GraphClients.Add(new EmulatorClient(ClientId, ClientSecret));
            _emulator = await EmulatorHost.StartAsync(options);
            _services = new ServiceCollection()
                .AddLogging(b => b.AddProvider(new Capture(_messages)).SetMinimumLevel(LogLevel.Trace))
                .AddSingleton(TimeProvider.System)
                .AddPortalEntra()
                .BuildServiceProvider();
            var connection = new IdpConnection("tenant-1", IdpKind.Entra, _emulator.BaseUrl, ClientSecret)
            {
                Entra = new EntraAppCredentials(DirectoryId, ClientId, new Uri(_emulator.BaseUrl, DirectoryId + "/oauth2/v2.0/token")),
            };
            Directory = _services.GetRequiredKeyedService<ICallerDirectoryFactory>(IdpKind.Entra).Create(connection);
        }

        public async Task DisposeAsync()
        {
            if (_services is not null)
            {
                await _services.DisposeAsync();
            }

            if (_emulator is not null)
            {
                await _emulator.DisposeAsync();
            }
        }
    }

    private sealed class Capture(ConcurrentQueue<string> messages) : ILoggerProvider, ILogger
    {
        public ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var structured = state is IEnumerable<KeyValuePair<string, object?>> pairs ? string.Join(';', pairs.Select(p => $"{p.Key}={p.Value}")) : "";
            messages.Enqueue($"{formatter(state, exception)} | {structured} | {exception}");
        }

        public void Dispose()
        {
        }
    }
}

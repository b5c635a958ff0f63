using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Portal.IdpEmulator;

namespace Portal.Idp.Tests.Integration;

/// <summary>
/// The Okta adapter's manager look-up (profile <c>managerId</c>, by id or by login) and the work phone on file, over real
/// HTTP against one emulator of this class's own (its outages and injected faults reach no other class), with every
/// log line the adapter writes captured.
/// </summary>
public sealed class OktaManagerTests(OktaManagerTests.Host host) : IClassFixture<OktaManagerTests.Host>
{
    private const string Alice = "alice.caller@demo.example";
    private const string Morgan = "morgan.lead@demo.example";

    private EmulatorState State => host.State;

    private ICallerDirectory Directory => host.Directory;

    [Fact]
    public async Task GetManager_SeededAlice_IsMorganByManagerId()
    {
        var result = await Directory.GetManagerAsync(host.IdOf(Alice));

        Assert.True(result.IsSuccess, result.Error?.Code);
        Assert.Equal(host.IdOf(Morgan), result.Value.Id);
        Assert.Equal(Morgan, result.Value.Login);
        Assert.Equal(CallerStatus.Active, result.Value.Status);
        Assert.Equal("Morgan Lead", result.Value.Details.DisplayName);
        Assert.Equal("Payroll Team Lead", result.Value.Details.Title);
        Assert.Equal("+1 555 0100 124", result.Value.Details.WorkPhone);
    }

    [Fact]
    public async Task GetManager_ManagerIdIsTheManagersId_ReadsThatUser()
    {
        var (report, manager) = NewPair(byLogin: false);

        var result = await Directory.GetManagerAsync(host.IdOf(report));

        Assert.True(result.IsSuccess, result.Error?.Code);
        Assert.Equal(host.IdOf(manager), result.Value.Id);
        Assert.Equal(manager, result.Value.Login);
        Assert.Contains(State.Requests, r => r.PathAndQuery == "/api/v1/users/" + host.IdOf(manager));
    }

    [Fact]
    public async Task GetManager_ManagerIdIsTheManagersLogin_ReadsThatUserByItsEscapedLogin()
    {
        var (report, manager) = NewPair(byLogin: true);

        var result = await Directory.GetManagerAsync(host.IdOf(report));

        Assert.True(result.IsSuccess, result.Error?.Code);
        Assert.Equal(host.IdOf(manager), result.Value.Id);
        Assert.Equal(manager, result.Value.Login);
        Assert.Contains(State.Requests, r => r.PathAndQuery == "/api/v1/users/" + Uri.EscapeDataString(manager));
    }

    [Fact]
    public async Task GetManager_SeededOrphanReport_IsTheSmsOnlyManagerNamedByLogin()
    {
        var result = await Directory.GetManagerAsync(host.IdOf("orphan.report@demo.example"));

        Assert.True(result.IsSuccess, result.Error?.Code);
        Assert.Equal("nofactor.manager@demo.example", result.Value.Login);
    }

    [Fact]
    public async Task GetManager_SeededSelfManaged_IsTheCallerThemself_ForRecoveryToRefuse()
    {
        var id = host.IdOf("self.managed@demo.example");

        var result = await Directory.GetManagerAsync(id);

        Assert.True(result.IsSuccess, result.Error?.Code);
        Assert.Equal(id, result.Value.Id);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    public async Task GetManager_NoManagerId_NoManagerWithoutASecondRead(string? managerId)
    {
        var report = NewCaller();
        State.FindCaller(report)!.ManagerId = managerId;
        var before = State.Requests.Count;

        var result = await Directory.GetManagerAsync(host.IdOf(report));

        AssertNoManager(result);
        Assert.Equal(1, State.Requests.Count - before);
    }

    [Fact]
    public async Task GetManager_SeededBob_HasNoManager()
    {
        AssertNoManager(await Directory.GetManagerAsync(host.IdOf("bob.caller@demo.example")));
    }

    [Theory]
    [InlineData("00uNOSUCHMANAGER0001")]
    [InlineData("left.the.company@demo.example")]
    public async Task GetManager_ManagerIdNamesNoUser_NoManager(string managerId)
    {
        var report = NewCaller();
        State.FindCaller(report)!.ManagerId = managerId;

        var result = await Directory.GetManagerAsync(host.IdOf(report));

        AssertNoManager(result);
        Assert.Contains(State.Requests, r => r.PathAndQuery == "/api/v1/users/" + Uri.EscapeDataString(managerId));
    }

    [Theory]
    [InlineData("../../groups/00gX")]
    [InlineData("a\\b")]
    [InlineData("..")]
    [InlineData("two words@demo.example")]
    public async Task GetManager_ManagerIdUnfitForAPath_NoManagerAndNeverSent(string managerId)
    {
        var report = NewCaller();
        State.FindCaller(report)!.ManagerId = managerId;
        var before = State.Requests.Count;

        var result = await Directory.GetManagerAsync(host.IdOf(report));

        AssertNoManager(result);
        Assert.Equal(1, State.Requests.Count - before);
    }

    [Fact]
    public async Task GetManager_ManagerReadRateLimited_RateLimitedNotNoManager()
    {
        var (report, manager) = NewPair(byLogin: false);

        // Twice: the adapter repeats a read once when Okta's reset is only seconds away.
        State.FailNext(429, "/users/" + host.IdOf(manager));
        State.FailNext(429, "/users/" + host.IdOf(manager));
        var result = await Directory.GetManagerAsync(host.IdOf(report));

        Assert.Equal(IdpErrorKind.RateLimited, result.Error?.Kind);
        Assert.NotNull(result.Error?.RetryAfter);
    }

    [Theory]
    [InlineData(503, IdpErrorKind.Unavailable)]
    [InlineData(403, IdpErrorKind.AccessDenied)]
    [InlineData(401, IdpErrorKind.Unauthorized)]
    public async Task GetManager_ManagerReadFails_MappedNotNoManager(int status, IdpErrorKind kind)
    {
        var (report, manager) = NewPair(byLogin: true);

        // Three times: a read that fails for a passing reason is tried again twice (the resilience handler).
        for (var i = 0; i < 3; i++)
        {
            State.FailNext(status, "/users/" + Uri.EscapeDataString(manager));
        }

        var result = await Directory.GetManagerAsync(host.IdOf(report));

        Assert.Equal(kind, result.Error?.Kind);
    }

    [Fact]
    public async Task GetManager_OktaDown_UnavailableNotNoManager()
    {
        var (report, _) = NewPair(byLogin: false);
        State.SetOutage(true);
        try
        {
            var result = await Directory.GetManagerAsync(host.IdOf(report));

            Assert.Equal(IdpErrorKind.Unavailable, result.Error?.Kind);
        }
        finally
        {
            State.SetOutage(false);
        }
    }

    [Fact]
    public async Task GetManager_UnknownCaller_NotFoundOfTheCallerNotNoManager()
    {
        var result = await Directory.GetManagerAsync("00uNOSUCHCALLER00001");

        Assert.Equal(IdpErrorKind.NotFound, result.Error?.Kind);
        Assert.NotEqual("no_manager", result.Error?.Code);
    }

    [Fact]
    public async Task GetManager_CallerIdUnfitForAPath_InvalidWithoutARequest()
    {
        var before = State.Requests.Count;

        var result = await Directory.GetManagerAsync("../users");

        Assert.Equal(IdpErrorKind.Invalid, result.Error?.Kind);
        Assert.Equal(before, State.Requests.Count);
    }

    [Fact]
    public async Task FindCaller_SeededAlice_ReadsTheWorkPhoneOnFile()
    {
        var result = await Directory.FindCallerAsync(Alice);

        Assert.True(result.IsSuccess, result.Error?.Code);
        Assert.Equal("+1 555 0100 123", result.Value.Details.WorkPhone);
    }

    [Fact]
    public async Task GetCaller_NoWorkPhoneOnFile_NullAndOktaSendsNoPrimaryPhone()
    {
        var caller = NewCaller();

        var result = await Directory.GetCallerAsync(host.IdOf(caller));

        Assert.True(result.IsSuccess, result.Error?.Code);
        Assert.Null(result.Value.Details.WorkPhone);
    }

    [Fact]
    public async Task ManagerLookUp_Logs_CarryNoPhoneNameLoginOrId()
    {
        var (report, manager) = NewPair(byLogin: true);
        var reportCaller = State.FindCaller(report)!;
        var managerCaller = State.FindCaller(manager)!;

        var found = await Directory.GetManagerAsync(reportCaller.Id);
        var card = await Directory.GetCallerAsync(reportCaller.Id);
        for (var i = 0; i < 3; i++)
        {
            State.FailNext(503, "/users/" + Uri.EscapeDataString(manager));
        }

        await Directory.GetManagerAsync(reportCaller.Id);
        reportCaller.ManagerId = "gone-" + manager;
        await Directory.GetManagerAsync(reportCaller.Id);
        reportCaller.ManagerId = "a/" + manager;
        await Directory.GetManagerAsync(reportCaller.Id);

        Assert.True(found.IsSuccess, found.Error?.Code);
        Assert.NotNull(card.Value.Details.WorkPhone);
        var messages = host.Messages.ToArray();
        Assert.Contains(messages, m => m.Contains("get_manager", StringComparison.Ordinal));
        string[] secrets =
        [
            reportCaller.WorkPhone!, managerCaller.WorkPhone!, reportCaller.Manager!, managerCaller.FirstName, managerCaller.LastName,
            manager, Uri.EscapeDataString(manager), managerCaller.Id, report, reportCaller.Id,
        ];
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

    private string NewCaller()
    {
        var login = $"r{Guid.NewGuid():N}@demo.example";
        return State.AddCaller(login, login, "Report", "Caller", push: true).Login;
    }

    /// <summary>A report and a manager of this test's own, each with a work phone; the report's managerId is the manager's id or login.</summary>
    private (string Report, string Manager) NewPair(bool byLogin)
    {
        var report = NewCaller();
        var manager = $"m{Guid.NewGuid():N}@demo.example";
        State.AddCaller(manager, manager, "Qmanager", "Qlead", push: true);
        State.SetManager(report, manager, byLogin);
        State.SetWorkPhone(report, "+1 555 0100 150");
        State.SetWorkPhone(manager, "+1 555 0100 151");
        return (report, manager);
    }

    /// <summary>One emulator and the adapter for this class, every log line at every level captured.</summary>
    public sealed class Host : IAsyncLifetime
    {
        private const string Token = "manager-okta-token-3b8d1e";
        private readonly CaptureProvider _capture = new();
        private ServiceProvider? _services;
        private EmulatorHost? _emulator;

        public EmulatorState State => _emulator!.State;

        public ICallerDirectory Directory { get; private set; } = null!;

        public IReadOnlyCollection<string> Messages => _capture.Messages;

        public string IdOf(string login) => State.FindCaller(login)!.Id;

        public async Task InitializeAsync()
        {
            _emulator = await EmulatorHost.StartAsync(new EmulatorOptions { OktaApiToken = Token });
            _services = new ServiceCollection()
                .AddLogging(b => b.AddProvider(_capture).SetMinimumLevel(LogLevel.Trace))
                .AddPortalIdp()
                .BuildServiceProvider();
            Directory = _services.GetRequiredService<ICallerDirectoryFactory>().Create(new IdpConnection("tenant-demo", IdpKind.Okta, _emulator.BaseUrl, Token));
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

    private sealed class CaptureProvider : ILoggerProvider
    {
        private readonly ConcurrentQueue<string> _messages = new();

        public IReadOnlyCollection<string> Messages => _messages;

        public ILogger CreateLogger(string categoryName) => new CaptureLogger(this);

        public void Dispose()
        {
        }

        private sealed class CaptureLogger(CaptureProvider owner) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                var structured = state is IEnumerable<KeyValuePair<string, object?>> pairs ? string.Join(';', pairs.Select(p => $"{p.Key}={p.Value}")) : "";
                owner._messages.Enqueue($"{formatter(state, exception)} | {structured} | {exception}");
            }
        }
    }
}

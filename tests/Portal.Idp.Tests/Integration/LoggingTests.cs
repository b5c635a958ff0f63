using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Portal.Idp.Tests.Integration;

[Collection(EmulatorCollection.Name)]
public sealed class LoggingTests(EmulatorFixture emulator)
{
    [Fact]
    public async Task AdapterLogs_EveryLevel_CarryNoLoginTokenOrSecret()
    {
        var capture = new CaptureProvider();
        await using var services = new ServiceCollection()
            .AddLogging(b => b.AddProvider(capture).SetMinimumLevel(LogLevel.Trace))
            .AddPortalIdp()
            .BuildServiceProvider();
        var directory = services.GetRequiredService<ICallerDirectoryFactory>()
            .Create(new IdpConnection("tenant-demo", IdpKind.Okta, emulator.Host.BaseUrl, EmulatorFixture.Token));
        var caller = emulator.NewCaller();
        var code = emulator.State.CurrentTotp(caller.Login);

        var found = await directory.FindCallerAsync(caller.Login);
        await directory.FindCallerAsync("nobody-" + caller.Login);
        await directory.VerifyTotpAsync(caller.Id, caller.Factors[0].Id, code, new ChallengeContext("UA", null));
        var link = await directory.ResetPasswordAsync(caller.Id, PasswordResetKind.OneTimeLink);
        var tac = await directory.IssueTemporaryAccessAsync(caller.Id, TimeSpan.FromHours(1), true);
        emulator.State.FailNext(503, $"/users/{caller.Id}/lifecycle/reset_factors");
        await directory.ResetFactorsAsync(caller.Id);

        Assert.True(found.IsSuccess);
        var messages = capture.Messages.ToArray();
        Assert.Contains(messages, m => m.Contains("find_caller", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.Contains("reset_factors", StringComparison.Ordinal) && m.Contains("503", StringComparison.Ordinal));
        string[] secrets = [caller.Login, caller.Id, caller.Factors[0].Id, EmulatorFixture.Token, code, link.Value.OneTimeSecret!, tac.Value.Value, "search="];
        foreach (var secret in secrets)
        {
            Assert.DoesNotContain(messages, m => m.Contains(secret, StringComparison.OrdinalIgnoreCase));
        }
    }

    private sealed class CaptureProvider : ILoggerProvider
    {
        public ConcurrentQueue<string> Messages { get; } = new();

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
                owner.Messages.Enqueue($"{formatter(state, exception)} | {structured} | {exception}");
            }
        }
    }
}

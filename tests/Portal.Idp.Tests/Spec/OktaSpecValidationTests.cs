using System.Net.Http.Headers;
using Microsoft.Extensions.DependencyInjection;
using Portal.Idp.Okta;
using Portal.IdpEmulator;

namespace Portal.Idp.Tests.Spec;

/// <summary>
/// Every answer the emulator gives to the Okta calls the portal makes, checked against Okta's published
/// Management API spec (specs/okta-management-subset.json, refreshed by specs/refresh-okta-spec.sh): the
/// operation exists, the status is documented, and the body has the documented shape. The calls are the
/// portal's own (its Okta adapter, through a recording handler) plus the reads its onboarding check,
/// privileged-target check and reconciliation (the System Log) make, in success and in failure.
/// </summary>
public sealed class OktaSpecValidationTests(OktaSpecValidationTests.Host host) : IClassFixture<OktaSpecValidationTests.Host>
{
    /// <summary>Statuses the spec leaves out of an operation but a real org answers, each with why.</summary>
    private static readonly Dictionary<(string OperationId, int Status), string> KnownUndocumented = new()
    {
        // Identity Engine only: a Classic Engine org has no Authenticators API and no TAC enrollment.
        [("listAuthenticators", 404)] = "Classic Engine org",
        [("createTacAuthenticatorEnrollment", 404)] = "Classic Engine org",
    };

    [Fact]
    public async Task EveryEmulatorAnswerToThePortalsOktaCalls_ConformsToOktasSpec()
    {
        var exchanges = await host.RunScenariosAsync();
        var validator = OpenApiSubsetValidator.Load(Path.Combine(AppContext.BaseDirectory, "specs", "okta-management-subset.json"));

        var problems = new List<string>();
        var covered = new HashSet<string>(StringComparer.Ordinal);
        foreach (var e in exchanges)
        {
            var operation = validator.FindOperation(e.Method, e.Path);
            if (operation is { } op)
            {
                covered.Add(op.OperationId);
            }

            var found = validator.Validate(e.Method, e.Path, e.Status, e.ContentType, e.Body);
            if (operation is { } known && found.Any(f => f.Contains("is not documented", StringComparison.Ordinal))
                && KnownUndocumented.ContainsKey((known.OperationId, e.Status)))
            {
                // Still an Okta error body.
                found = validator.ValidateError(e.Status, e.ContentType, e.Body, known.OperationId);
            }
            else if (e.Status is 401 or >= 500 && found.Any(f => f.Contains("is not documented", StringComparison.Ordinal)))
            {
                // Okta answers any operation 401 (E0000011) for a bad credential and 5xx when it fails; the spec
                // does not repeat them per operation. The body must still be Okta's Error.
                found = validator.ValidateError(e.Status, e.ContentType, e.Body, operation?.OperationId ?? e.Path);
            }

            problems.AddRange(found.Select(f => $"{e.Method} {e.Path} -> {f}"));
        }

        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
        Assert.Equal(PortalOperations.Order(), covered.Order());
    }

    [Fact]
    public void Validator_RejectsWhatTheSpecForbids()
    {
        var validator = OpenApiSubsetValidator.Load(Path.Combine(AppContext.BaseDirectory, "specs", "okta-management-subset.json"));
        const string UserPath = "/api/v1/users/00u1";

        // An invented status, a wrong enum value, a bad date-time, a wrong type and a missing required field.
        Assert.Contains(validator.Validate("POST", UserPath + "/lifecycle/unlock", 400, "application/json", """{"errorCode":"E0000001"}"""), p => p.Contains("not documented", StringComparison.Ordinal));
        Assert.Contains(validator.Validate("GET", UserPath, 200, "application/json", """{"id":"00u1","status":"SLEEPING","profile":{"login":"a","email":"a@b.c","firstName":"A","lastName":"B"}}"""), p => p.Contains("SLEEPING", StringComparison.Ordinal));
        Assert.Contains(validator.Validate("GET", UserPath, 200, "application/json", """{"id":"00u1","created":"yesterday"}"""), p => p.Contains("date-time", StringComparison.Ordinal));
        Assert.Contains(validator.Validate("GET", UserPath, 200, "application/json", """{"id":17}"""), p => p.Contains("says string", StringComparison.Ordinal));
        Assert.Contains(validator.Validate("POST", UserPath + "/authenticator-enrollments/tac", 200, "application/json", """{"profile":{"expiresAt":3}}"""), p => p.Contains("says string", StringComparison.Ordinal));
        Assert.Contains(validator.Validate("DELETE", UserPath + "/factors/f/transactions/t", 204, null, ""), p => p.Contains("no such operation", StringComparison.Ordinal));
        Assert.Empty(validator.Validate("POST", UserPath + "/lifecycle/unlock", 200, null, ""));
    }

    /// <summary>The Okta operations the portal calls (the System Log for reconciliation); the same list as specs/extract-okta-subset.py.</summary>
    internal static readonly string[] PortalOperations =
    [
        "getWellknownOrgMetadata",
        "listUsers",
        "getUser",
        "listFactors",
        "verifyFactor",
        "getFactorTransactionStatus",
        "listUserGroups",
        "listAssignedRolesForUser",
        "listGroupAssignedRoles",
        "resetPassword",
        "expirePasswordWithTempPassword",
        "resetFactors",
        "unlockUser",
        "revokeUserSessions",
        "listAuthenticators",
        "createTacAuthenticatorEnrollment",
        "listLogEvents",
    ];

    public sealed record Exchange(string Method, string Path, int Status, string? ContentType, string Body);

    /// <summary>One emulator and the portal's Okta adapter over a handler that records every answer.</summary>
    public sealed class Host : IAsyncLifetime
    {
        private const string Token = "spec-validation-token-7c1e";
        private readonly Sink _sink = new();
        private ServiceProvider? _services;
        private EmulatorHost? _emulator;

        public async Task InitializeAsync()
        {
            _emulator = await EmulatorHost.StartAsync(new EmulatorOptions { OktaApiToken = Token });
            var services = new ServiceCollection().AddLogging().AddPortalIdp();
            services.AddHttpClient(OktaCallerDirectoryFactory.HttpClientName).AddHttpMessageHandler(() => new Recording(_sink));
            _services = services.BuildServiceProvider();
        }

        public async Task<IReadOnlyList<Exchange>> RunScenariosAsync()
        {
            var emulator = _emulator!;
            var state = emulator.State;
            var factory = _services!.GetRequiredService<ICallerDirectoryFactory>();
            var directory = factory.Create(new IdpConnection("spec", IdpKind.Okta, emulator.BaseUrl, Token));
            var context = new ChallengeContext("Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0", "198.51.100.7");
            const string Alice = "alice.caller@demo.example";
            var alice = state.FindCaller(Alice)!;

            // Reads.
            await directory.FindCallerAsync(Alice);
            await directory.FindCallerAsync("nobody@demo.example");
            await directory.GetCallerAsync(alice.Id);
            await directory.GetCallerAsync("00uNOSUCHUSER0000000");
            await directory.ListFactorsAsync(alice.Id);
            await directory.ListFactorsAsync(state.FindCaller("frank.caller@demo.example")!.Id);
            await directory.ListGroupsAsync(state.FindCaller("erin.admin@demo.example")!.Id);

            // A caller whose groups fill more than one page: the pages after the first as the adapter follows them.
            var inManyGroups = state.AddCaller($"spec{Guid.NewGuid():N}@demo.example", "spec@demo.example", "Spec", "Groups");
            state.AddToManyGroups(inManyGroups.Login, "Spec Project", 250);
            await directory.ListGroupsAsync(inManyGroups.Id);

            // The manager look-up (getUser twice): managerId an id, a login, naming nobody; no managerId at all.
            await directory.GetManagerAsync(alice.Id);
            await directory.GetManagerAsync(state.FindCaller("orphan.report@demo.example")!.Id);
            await directory.GetManagerAsync(state.FindCaller("bob.caller@demo.example")!.Id);
            var orphaned = state.AddCaller($"spec{Guid.NewGuid():N}@demo.example", "spec@demo.example", "Spec", "Caller");
            orphaned.ManagerId = "left.the.company@demo.example";
            await directory.GetManagerAsync(orphaned.Id);

            // Push with number matching: waiting, then approved; another rejected.
            var push = await directory.StartPushAsync(alice.Id, alice.Factors.First(f => f.FactorType == "push").Id, context);
            await directory.PollPushAsync(alice.Id, push.Value.PollReference);
            state.AnswerPush(state.PendingPushes(Alice)[0].TransactionId, push.Value.CorrectAnswer);
            await directory.PollPushAsync(alice.Id, push.Value.PollReference);
            var second = await directory.StartPushAsync(alice.Id, alice.Factors.First(f => f.FactorType == "push").Id, context);
            state.DenyPush(state.PendingPushes(Alice)[0].TransactionId);
            await directory.PollPushAsync(alice.Id, second.Value.PollReference);

            // TOTP: right, wrong; a factor that is not active.
            var totp = alice.Factors.First(f => f.FactorType == "token:software:totp").Id;
            await directory.VerifyTotpAsync(alice.Id, totp, state.CurrentTotp(Alice), context);
            await directory.VerifyTotpAsync(alice.Id, totp, "000000", context);
            var frank = state.FindCaller("frank.caller@demo.example")!;
            await directory.StartPushAsync(frank.Id, frank.Factors.First(f => f.FactorType == "push").Id, context);

            // Actions on callers of this test, in every status the portal can meet.
            foreach (var status in new[] { "ACTIVE", "LOCKED_OUT", "STAGED", "PROVISIONED", "SUSPENDED", "DEPROVISIONED", "PASSWORD_EXPIRED", "RECOVERY" })
            {
                foreach (var action in Actions)
                {
                    var caller = state.AddCaller($"spec{Guid.NewGuid():N}@demo.example", "spec@demo.example", "Spec", "Caller", status);
                    await action(directory, caller.Id);
                }
            }

            // Rate limited and unauthorised answers.
            state.FailNext(429, "/lifecycle/unlock");
            await directory.UnlockAsync(alice.Id);
            await factory.Create(new IdpConnection("spec", IdpKind.Okta, emulator.BaseUrl, "wrong-token")).GetCallerAsync(alice.Id);

            // Classic Engine: no authenticators, no TAC.
            state.ClassicEngine = true;
            await directory.IssueTemporaryAccessAsync(alice.Id, TimeSpan.FromMinutes(30), true);
            await factory.Create(new IdpConnection("spec", IdpKind.Okta, emulator.BaseUrl, Token) { Okta = new OktaConnectionSettings { TacAuthenticatorId = EmulatorState.TacAuthenticatorId } })
                .IssueTemporaryAccessAsync(alice.Id, TimeSpan.FromMinutes(30), true);
            state.ClassicEngine = false;

            // The reads of the onboarding and privileged-target checks: org metadata, admin roles direct and
            // through groups.
            state.AssignRole("bob.caller@demo.example", "ORG_ADMIN");
            using var raw = new HttpClient(new Recording(_sink, new SocketsHttpHandler())) { BaseAddress = emulator.BaseUrl };
            raw.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("SSWS", Token);
            await Send(raw, ".well-known/okta-organization");
            foreach (var login in new[] { "erin.admin@demo.example", "bob.caller@demo.example", Alice })
            {
                await Send(raw, $"api/v1/users/{state.FindCaller(login)!.Id}/roles");
            }

            await Send(raw, "api/v1/users/00uNOSUCHUSER0000000/roles");
            await Send(raw, $"api/v1/groups/{EmulatorState.GroupId(EmulatorState.AdministratorsGroup)}/roles");
            await Send(raw, "api/v1/groups/00gNOSUCHGROUP000000/roles");

            // The System Log as reconciliation reads it (after the actions above, and one by an administrator at the
            // console): a poll from a time, a page of one, a filter; and what Okta refuses (since with after, a limit
            // out of range, a filter on published).
            state.ActAsAdmin(AdminAction.ClearSessions, Alice, IdpSide.Okta);
            await Send(raw, "api/v1/logs?since=" + Uri.EscapeDataString(DateTimeOffset.UtcNow.AddHours(-1).ToString("O", System.Globalization.CultureInfo.InvariantCulture)));
            await Send(raw, "api/v1/logs?limit=1");
            await Send(raw, "api/v1/logs?filter=" + Uri.EscapeDataString("eventType eq \"user.mfa.factor.activate\" or eventType eq \"user.session.clear\""));
            await Send(raw, "api/v1/logs?since=2026-01-01T00%3A00%3A00Z&after=1_1");
            await Send(raw, "api/v1/logs?limit=5000");
            await Send(raw, "api/v1/logs?filter=" + Uri.EscapeDataString("published gt \"2026-01-01T00:00:00Z\""));
            return _sink.Exchanges;
        }

        private static readonly Func<ICallerDirectory, string, Task>[] Actions =
        [
            (d, id) => d.ResetPasswordAsync(id, PasswordResetKind.SendEmail),
            (d, id) => d.ResetPasswordAsync(id, PasswordResetKind.OneTimeLink),
            (d, id) => d.ResetPasswordAsync(id, PasswordResetKind.TemporaryPassword),
            (d, id) => d.RevokeSessionsAsync(id),
            (d, id) => d.UnlockAsync(id),
            (d, id) => d.ResetFactorsAsync(id),
            (d, id) => d.IssueTemporaryAccessAsync(id, TimeSpan.FromMinutes(45), true),
        ];

        private static async Task Send(HttpClient client, string path)
        {
            using var _ = await client.GetAsync(path);
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

    private sealed class Sink
    {
        private readonly List<Exchange> _exchanges = [];

        public IReadOnlyList<Exchange> Exchanges
        {
            get
            {
                lock (_exchanges)
                {
                    return [.. _exchanges];
                }
            }
        }

        public void Add(Exchange exchange)
        {
            lock (_exchanges)
            {
                _exchanges.Add(exchange);
            }
        }
    }

    /// <summary>Records each answer as received (inside the resilience pipeline: every attempt).</summary>
    private sealed class Recording : DelegatingHandler
    {
        private readonly Sink _sink;

        public Recording(Sink sink, HttpMessageHandler? inner = null)
        {
            _sink = sink;
            if (inner is not null)
            {
                InnerHandler = inner;
            }
        }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken);
            await response.Content.LoadIntoBufferAsync(cancellationToken);
            _sink.Add(new Exchange(request.Method.Method, request.RequestUri!.AbsolutePath, (int)response.StatusCode, response.Content.Headers.ContentType?.MediaType, await response.Content.ReadAsStringAsync(cancellationToken)));
            return response;
        }
    }
}

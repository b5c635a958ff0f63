using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;

namespace Portal.IdpEmulator.Tests;

public sealed class OktaApiTests
{
    private const string Alice = "alice.caller@demo.example";

    [Theory]
    [InlineData(null)]
    [InlineData("wrong-token")]
    public async Task GetUser_WithoutValidSswsToken_Returns401E0000011(string? token)
    {
        await using var host = await TestEmulator.StartAsync();
        using var client = TestEmulator.Okta(host, token);

        using var response = await client.GetAsync("users/" + Uri.EscapeDataString(Alice));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("E0000011", (await TestEmulator.ReadJson(response))["errorCode"]!.GetValue<string>());
    }

    [Fact]
    public async Task GetUser_BearerSchemeWithRightToken_Returns401()
    {
        await using var host = await TestEmulator.StartAsync();
        using var client = TestEmulator.Okta(host, null);
        client.DefaultRequestHeaders.Authorization = new("Bearer", TestEmulator.Token);

        using var response = await client.GetAsync("users/" + TestEmulator.IdOf(host, Alice));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task GetUser_ByLoginAndById_ReturnsOktaUserShapeWithRateLimitHeaders()
    {
        await using var host = await TestEmulator.StartAsync();
        using var client = TestEmulator.Okta(host);
        var id = TestEmulator.IdOf(host, Alice);

        using var byLogin = await client.GetAsync("users/" + Uri.EscapeDataString(Alice));
        using var byId = await client.GetAsync("users/" + id);

        Assert.Equal(HttpStatusCode.OK, byLogin.StatusCode);
        var user = await TestEmulator.ReadJson(byLogin);
        Assert.Equal(id, user["id"]!.GetValue<string>());
        Assert.Equal(20, id.Length);
        Assert.StartsWith("00u", id, StringComparison.Ordinal);
        Assert.Equal("ACTIVE", user["status"]!.GetValue<string>());
        Assert.Equal(Alice, user["profile"]!["login"]!.GetValue<string>());
        Assert.Equal(Alice, user["profile"]!["email"]!.GetValue<string>());
        Assert.Equal("Alice", user["profile"]!["firstName"]!.GetValue<string>());
        Assert.Equal(id, (await TestEmulator.ReadJson(byId))["id"]!.GetValue<string>());
        foreach (var header in new[] { "X-Rate-Limit-Limit", "X-Rate-Limit-Remaining", "X-Rate-Limit-Reset" })
        {
            Assert.True(byLogin.Headers.Contains(header), header);
        }
    }

    [Fact]
    public async Task GetUser_Unknown_Returns404E0000007()
    {
        await using var host = await TestEmulator.StartAsync();
        using var client = TestEmulator.Okta(host);

        using var response = await client.GetAsync("users/nobody%40demo.example");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var error = await TestEmulator.ReadJson(response);
        Assert.Equal("E0000007", error["errorCode"]!.GetValue<string>());
        Assert.NotNull(error["errorSummary"]);
        Assert.NotNull(error["errorId"]);
        Assert.IsType<JsonArray>(error["errorCauses"]);
    }

    [Fact]
    public async Task SearchUsers_LoginOrEmail_FindsBoth()
    {
        await using var host = await TestEmulator.StartAsync();
        using var client = TestEmulator.Okta(host);
        var search = "profile.login eq \"alice.caller@demo.example\" or profile.email eq \"bob.caller@demo.example\"";

        using var response = await client.GetAsync("users?search=" + Uri.EscapeDataString(search));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var logins = (await TestEmulator.ReadJson(response)).AsArray().Select(u => u!["profile"]!["login"]!.GetValue<string>()).Order().ToArray();
        Assert.Equal(["alice.caller@demo.example", "bob.caller@demo.example"], logins);
    }

    [Fact]
    public async Task SearchUsers_EscapedQuoteAndBackslash_FindsThatUser()
    {
        await using var host = await TestEmulator.StartAsync();
        const string Login = "o\"brien\\x@demo.example";
        var added = host.State.AddCaller(Login, Login, "Pat", "O'Brien");
        using var client = TestEmulator.Okta(host);
        var escaped = Login.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal);

        using var search = await client.GetAsync("users?search=" + Uri.EscapeDataString($"profile.login eq \"{escaped}\""));
        using var filter = await client.GetAsync("users?filter=" + Uri.EscapeDataString($"profile.email eq \"{escaped}\""));

        var found = Assert.Single((await TestEmulator.ReadJson(search)).AsArray());
        Assert.Equal(added.Id, found!["id"]!.GetValue<string>());
        Assert.Single((await TestEmulator.ReadJson(filter)).AsArray());
    }

    [Fact]
    public async Task GetUser_SeededManagers_ProfileCarriesManagerIdAndPrimaryPhoneOnlyWhenSet()
    {
        await using var host = await TestEmulator.StartAsync();
        using var client = TestEmulator.Okta(host);
        var morgan = host.State.FindCaller("morgan.lead@demo.example")!;

        var alice = (await TestEmulator.ReadJson(await client.GetAsync("users/" + TestEmulator.IdOf(host, "alice.caller@demo.example"))))["profile"]!;
        var orphan = (await TestEmulator.ReadJson(await client.GetAsync("users/" + TestEmulator.IdOf(host, "orphan.report@demo.example"))))["profile"]!;
        var self = host.State.FindCaller("self.managed@demo.example")!;
        var bob = (await TestEmulator.ReadJson(await client.GetAsync("users/" + TestEmulator.IdOf(host, "bob.caller@demo.example"))))["profile"]!.AsObject();
        var manager = (await TestEmulator.ReadJson(await client.GetAsync("users/" + Uri.EscapeDataString(orphan["managerId"]!.GetValue<string>()))))!;

        Assert.Equal(morgan.Id, alice["managerId"]!.GetValue<string>());
        Assert.Equal("Morgan Lead", alice["manager"]!.GetValue<string>());
        Assert.Equal("+1 555 0100 123", alice["primaryPhone"]!.GetValue<string>());
        Assert.Equal("ACTIVE", morgan.Status);
        Assert.Equal(["push"], morgan.Factors.Select(f => f.FactorType));
        Assert.Equal(self.Id, self.ManagerId);
        Assert.Equal("nofactor.manager@demo.example", orphan["managerId"]!.GetValue<string>());
        Assert.Equal(["sms"], host.State.FindCaller("nofactor.manager@demo.example")!.Factors.Select(f => f.FactorType));
        Assert.Equal("nofactor.manager@demo.example", manager["profile"]!["login"]!.GetValue<string>());
        Assert.False(bob.ContainsKey("managerId"));
        Assert.False(bob.ContainsKey("primaryPhone"));
    }

    [Fact]
    public async Task SetManager_ByIdOrByLogin_FillsManagerIdAndName()
    {
        await using var host = await TestEmulator.StartAsync();
        var report = host.State.AddCaller("qreport@demo.example", "qreport@demo.example", "Qreport", "Qcaller");
        var manager = host.State.AddCaller("qmanager@demo.example", "qmanager@demo.example", "Qmanager", "Qlead", "ACTIVE", ["sms"]);

        host.State.SetManager(report.Login, manager.Login);
        var byId = (report.ManagerId, report.Manager);
        host.State.SetManager(report.Login, manager.Login, byLogin: true);
        var byLogin = report.ManagerId;
        host.State.SetWorkPhone(report.Login, "+1 555 0100 170");
        host.State.SetManager(report.Login, null);

        Assert.Equal((manager.Id, "Qmanager Qlead"), byId);
        Assert.Equal(manager.Login, byLogin);
        Assert.Null(report.ManagerId);
        Assert.Null(report.Manager);
        Assert.Equal("+1 555 0100 170", report.WorkPhone);
        Assert.Equal(["sms"], manager.Factors.Select(f => f.FactorType));
    }

    [Fact]
    public async Task SearchUsers_InjectionAttemptEscaped_FindsNothing()
    {
        await using var host = await TestEmulator.StartAsync();
        using var client = TestEmulator.Okta(host);
        const string Input = "x\" or profile.login eq \"alice.caller@demo.example";
        var escaped = Input.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal);

        using var response = await client.GetAsync("users?search=" + Uri.EscapeDataString($"profile.login eq \"{escaped}\""));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Empty((await TestEmulator.ReadJson(response)).AsArray());
    }

    [Fact]
    public async Task SearchUsers_NonAsciiValue_Returns200WithAnEncodedLinkHeader()
    {
        await using var host = await TestEmulator.StartAsync();
        using var client = TestEmulator.Okta(host);

        using var response = await client.GetAsync("users?search=" + Uri.EscapeDataString("profile.login eq \"zoë.ünïcode@demo.example\""));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Empty((await TestEmulator.ReadJson(response)).AsArray());
        var link = Assert.Single(response.Headers.GetValues("Link"));
        Assert.All(link, c => Assert.True(c < 128, "A header value must be ASCII."));
    }

    [Theory]
    [InlineData("profile.login eq \"x\" or profile.login sw \"\"")]
    [InlineData("profile.login eq \"x")]
    [InlineData("profile.login eq \"a\\nb\"")]
    [InlineData("profile.login eq \"a\" and profile.email eq \"b\"")]
    [InlineData("profile.firstName eq \"Alice\"")]
    [InlineData("(profile.login eq \"a\")")]
    [InlineData("profile.login eq \"a\" or")]
    public async Task SearchUsers_MalformedOrUnsupported_Returns400E0000001(string expression)
    {
        await using var host = await TestEmulator.StartAsync();
        using var client = TestEmulator.Okta(host);

        using var response = await client.GetAsync("users?search=" + Uri.EscapeDataString(expression));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("E0000001", (await TestEmulator.ReadJson(response))["errorCode"]!.GetValue<string>());
    }

    [Fact]
    public async Task Requests_RecordsPathQueryAndBodyAsReceived()
    {
        await using var host = await TestEmulator.StartAsync();
        using var client = TestEmulator.Okta(host);
        var query = "users?search=" + Uri.EscapeDataString("profile.login eq \"a\\\"b\"");

        using var _ = await client.GetAsync(query);
        using var post = await client.PostAsync($"users/{TestEmulator.IdOf(host, Alice)}/lifecycle/unlock", TestEmulator.JsonBody("{\"k\":1}"));

        var recorded = host.State.Requests;
        Assert.Equal("/api/v1/" + query, recorded[^2].PathAndQuery);
        Assert.Equal("GET", recorded[^2].Method);
        Assert.Equal("POST", recorded[^1].Method);
        Assert.Equal("{\"k\":1}", recorded[^1].Body);
    }

    [Fact]
    public async Task ListFactors_Alice_ReturnsPushAndTotpWithFullShape()
    {
        await using var host = await TestEmulator.StartAsync();
        using var client = TestEmulator.Okta(host);

        using var response = await client.GetAsync($"users/{TestEmulator.IdOf(host, Alice)}/factors");

        var factors = (await TestEmulator.ReadJson(response)).AsArray();
        Assert.Equal(["push", "token:software:totp"], factors.Select(f => f!["factorType"]!.GetValue<string>()).ToArray());
        foreach (var factor in factors)
        {
            Assert.Equal("OKTA", factor!["provider"]!.GetValue<string>());
            Assert.Equal("OKTA", factor["vendorName"]!.GetValue<string>());
            Assert.Equal("ACTIVE", factor["status"]!.GetValue<string>());
            Assert.NotNull(factor["profile"]);
            Assert.EndsWith("/verify", factor["_links"]!["verify"]!["href"]!.GetValue<string>(), StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("bob.caller@demo.example", "token:software:totp:GOOGLE:ACTIVE")]
    [InlineData("carol.caller@demo.example", "sms:OKTA:ACTIVE,email:OKTA:ACTIVE")]
    [InlineData("frank.caller@demo.example", "push:OKTA:PENDING_ACTIVATION,signed_nonce:OKTA:ACTIVE")]
    public async Task ListFactors_SeededCallers_MatchDemoOrg(string login, string expected)
    {
        await using var host = await TestEmulator.StartAsync();
        using var client = TestEmulator.Okta(host);

        using var response = await client.GetAsync($"users/{TestEmulator.IdOf(host, login)}/factors");

        var factors = (await TestEmulator.ReadJson(response)).AsArray()
            .Select(f => $"{f!["factorType"]}:{f["provider"]}:{f["status"]}");
        Assert.Equal(expected, string.Join(",", factors));
    }

    [Fact]
    public async Task VerifyPush_WithNumberMatching_Returns201WaitingThenSuccessAfterRightNumber()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var host = await TestEmulator.StartAsync(time);
        using var client = TestEmulator.Okta(host);
        var fid = TestEmulator.FactorOf(host, Alice, "push");

        using var verify = await client.PostAsync($"users/{TestEmulator.IdOf(host, Alice)}/factors/{fid}/verify", TestEmulator.JsonBody("{\"useNumberMatchingChallenge\":true}"));

        Assert.Equal(HttpStatusCode.Created, verify.StatusCode);
        var body = await TestEmulator.ReadJson(verify);
        Assert.Equal("WAITING", body["factorResult"]!.GetValue<string>());
        var correct = body["_embedded"]!["challenge"]!["correctAnswer"]!.GetValue<int>();
        Assert.InRange(correct, 1, 99);
        var expiresAt = DateTimeOffset.Parse(body["expiresAt"]!.GetValue<string>(), CultureInfo.InvariantCulture);
        Assert.Equal(time.GetUtcNow().AddMinutes(5).ToUnixTimeSeconds(), expiresAt.ToUnixTimeSeconds());
        var poll = new Uri(body["_links"]!["poll"]!["href"]!.GetValue<string>());
        Assert.True(poll.IsAbsoluteUri);
        Assert.Contains($"/factors/{fid}/transactions/", poll.AbsolutePath, StringComparison.Ordinal);
        Assert.NotNull(body["_links"]!["cancel"]!["href"]);

        using var waiting = await client.GetAsync(poll);
        Assert.Equal("WAITING", (await TestEmulator.ReadJson(waiting))["factorResult"]!.GetValue<string>());

        var pending = Assert.Single(host.State.PendingPushes(Alice));
        Assert.Equal(correct, pending.CorrectAnswer);
        Assert.Equal(3, pending.Choices.Distinct().Count());
        Assert.Contains(correct, pending.Choices);
        Assert.True(host.State.AnswerPush(pending.TransactionId, correct));

        using var done = await client.GetAsync(poll);
        Assert.Equal("SUCCESS", (await TestEmulator.ReadJson(done))["factorResult"]!.GetValue<string>());
        Assert.Empty(host.State.PendingPushes(Alice));
    }

    [Fact]
    public async Task PollPush_WrongNumber_Rejected()
    {
        await using var host = await TestEmulator.StartAsync();
        using var client = TestEmulator.Okta(host);
        var poll = await StartPush(host, client);
        var pending = Assert.Single(host.State.PendingPushes(Alice));

        Assert.True(host.State.AnswerPush(pending.TransactionId, pending.Choices.First(c => c != pending.CorrectAnswer)));

        using var response = await client.GetAsync(poll);
        Assert.Equal("REJECTED", (await TestEmulator.ReadJson(response))["factorResult"]!.GetValue<string>());
        Assert.False(host.State.AnswerPush(pending.TransactionId, pending.CorrectAnswer));
    }

    [Fact]
    public async Task PollPush_Denied_Rejected()
    {
        await using var host = await TestEmulator.StartAsync();
        using var client = TestEmulator.Okta(host);
        var poll = await StartPush(host, client);

        Assert.True(host.State.DenyPush(host.State.PendingPushes(Alice)[0].TransactionId));

        using var response = await client.GetAsync(poll);
        Assert.Equal("REJECTED", (await TestEmulator.ReadJson(response))["factorResult"]!.GetValue<string>());
    }

    [Fact]
    public async Task PollPush_PastExpiresAt_Timeout()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var host = await TestEmulator.StartAsync(time);
        using var client = TestEmulator.Okta(host);
        var poll = await StartPush(host, client);
        var pending = Assert.Single(host.State.PendingPushes(Alice));

        time.Advance(TimeSpan.FromMinutes(5) + TimeSpan.FromSeconds(1));

        using var response = await client.GetAsync(poll);
        Assert.Equal("TIMEOUT", (await TestEmulator.ReadJson(response))["factorResult"]!.GetValue<string>());
        Assert.False(host.State.AnswerPush(pending.TransactionId, pending.CorrectAnswer));
        Assert.Empty(host.State.PendingPushes(Alice));
    }

    [Fact]
    public async Task VerifyPush_WithoutNumberMatching_Returns400E0000001()
    {
        await using var host = await TestEmulator.StartAsync();
        using var client = TestEmulator.Okta(host);

        using var response = await client.PostAsync(
            $"users/{TestEmulator.IdOf(host, Alice)}/factors/{TestEmulator.FactorOf(host, Alice, "push")}/verify", TestEmulator.JsonBody("{}"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("E0000001", (await TestEmulator.ReadJson(response))["errorCode"]!.GetValue<string>());
        Assert.Empty(host.State.PendingPushes(Alice));
    }

    [Fact]
    public async Task VerifyPush_WithoutUserAgent_Returns400()
    {
        await using var host = await TestEmulator.StartAsync();
        using var client = TestEmulator.Okta(host);
        client.DefaultRequestHeaders.UserAgent.Clear();

        using var response = await client.PostAsync(
            $"users/{TestEmulator.IdOf(host, Alice)}/factors/{TestEmulator.FactorOf(host, Alice, "push")}/verify",
            TestEmulator.JsonBody("{\"useNumberMatchingChallenge\":true}"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Empty(host.State.PendingPushes(Alice));
    }

    [Fact]
    public async Task VerifyPush_PendingActivationFactor_Refused()
    {
        await using var host = await TestEmulator.StartAsync();
        using var client = TestEmulator.Okta(host);
        const string Frank = "frank.caller@demo.example";

        using var response = await client.PostAsync(
            $"users/{TestEmulator.IdOf(host, Frank)}/factors/{TestEmulator.FactorOf(host, Frank, "push")}/verify",
            TestEmulator.JsonBody("{\"useNumberMatchingChallenge\":true}"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Empty(host.State.PendingPushes(Frank));
    }

    [Fact]
    public async Task VerifyTotp_CurrentCode_SuccessThenReplayed()
    {
        await using var host = await TestEmulator.StartAsync();
        using var client = TestEmulator.Okta(host);
        var url = $"users/{TestEmulator.IdOf(host, Alice)}/factors/{TestEmulator.FactorOf(host, Alice, "token:software:totp")}/verify";
        var code = host.State.CurrentTotp(Alice);

        using var first = await client.PostAsync(url, TestEmulator.JsonBody($"{{\"passCode\":\"{code}\"}}"));
        using var second = await client.PostAsync(url, TestEmulator.JsonBody($"{{\"passCode\":\"{code}\"}}"));

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal("SUCCESS", (await TestEmulator.ReadJson(first))["factorResult"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal("PASSCODE_REPLAYED", (await TestEmulator.ReadJson(second))["factorResult"]!.GetValue<string>());
    }

    [Fact]
    public async Task VerifyTotp_WrongCode_Returns403E0000068()
    {
        await using var host = await TestEmulator.StartAsync();
        using var client = TestEmulator.Okta(host);
        var url = $"users/{TestEmulator.IdOf(host, Alice)}/factors/{TestEmulator.FactorOf(host, Alice, "token:software:totp")}/verify";
        var now = DateTimeOffset.UtcNow;
        var valid = new[] { -30, 0, 30 }.Select(s => host.State.TotpAt(Alice, now.AddSeconds(s))).ToHashSet();
        var wrong = Enumerable.Range(0, 4).Select(i => i.ToString("D6", CultureInfo.InvariantCulture)).First(c => !valid.Contains(c));

        using var response = await client.PostAsync(url, TestEmulator.JsonBody($"{{\"passCode\":\"{wrong}\"}}"));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("E0000068", (await TestEmulator.ReadJson(response))["errorCode"]!.GetValue<string>());
    }

    [Theory]
    [InlineData(-30, HttpStatusCode.OK)]
    [InlineData(30, HttpStatusCode.OK)]
    [InlineData(-60, HttpStatusCode.Forbidden)]
    [InlineData(60, HttpStatusCode.Forbidden)]
    public async Task VerifyTotp_Drift_AcceptsOneStepOnly(int offsetSeconds, HttpStatusCode expected)
    {
        // Mid-step, so that the offset lands squarely in the neighbouring step.
        var now = DateTimeOffset.FromUnixTimeSeconds((DateTimeOffset.UtcNow.ToUnixTimeSeconds() / 30 * 30) + 15);
        var time = new FakeTimeProvider(now);
        await using var host = await TestEmulator.StartAsync(time);
        using var client = TestEmulator.Okta(host);
        var url = $"users/{TestEmulator.IdOf(host, "bob.caller@demo.example")}/factors/{TestEmulator.FactorOf(host, "bob.caller@demo.example", "token:software:totp")}/verify";
        var code = host.State.TotpAt("bob.caller@demo.example", now.AddSeconds(offsetSeconds));

        using var response = await client.PostAsync(url, TestEmulator.JsonBody($"{{\"passCode\":\"{code}\"}}"));

        Assert.Equal(expected, response.StatusCode);
    }

    [Fact]
    public async Task ResetPassword_SendEmailFalse_ReturnsOneTimeUrlAndRecovery()
    {
        await using var host = await TestEmulator.StartAsync();
        using var client = TestEmulator.Okta(host);
        var caller = host.State.FindCaller(Alice)!;

        using var first = await client.PostAsync($"users/{caller.Id}/lifecycle/reset_password?sendEmail=false", null);
        using var second = await client.PostAsync($"users/{caller.Id}/lifecycle/reset_password?sendEmail=false", null);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var url1 = (await TestEmulator.ReadJson(first))["resetPasswordUrl"]!.GetValue<string>();
        var url2 = (await TestEmulator.ReadJson(second))["resetPasswordUrl"]!.GetValue<string>();
        Assert.True(Uri.IsWellFormedUriString(url1, UriKind.Absolute));
        Assert.NotEqual(url1, url2);
        Assert.Equal("RECOVERY", caller.Status);
        Assert.Equal(2, caller.PasswordResets);
    }

    [Fact]
    public async Task ResetPassword_SendEmailTrue_ReturnsEmptyObject()
    {
        await using var host = await TestEmulator.StartAsync();
        using var client = TestEmulator.Okta(host);
        var caller = host.State.FindCaller(Alice)!;

        using var response = await client.PostAsync($"users/{caller.Id}/lifecycle/reset_password?sendEmail=true", null);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Empty((await TestEmulator.ReadJson(response)).AsObject());
        Assert.Equal(1, caller.PasswordResets);
        Assert.Equal("RECOVERY", caller.Status);
    }

    [Fact]
    public async Task ResetPassword_WithoutSendEmail_Returns400AndChangesNothing()
    {
        await using var host = await TestEmulator.StartAsync();
        using var client = TestEmulator.Okta(host);
        var caller = host.State.FindCaller(Alice)!;

        using var response = await client.PostAsync($"users/{caller.Id}/lifecycle/reset_password", null);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(0, caller.PasswordResets);
        Assert.Equal("ACTIVE", caller.Status);
    }

    [Fact]
    public async Task ExpirePasswordWithTempPassword_ReturnsTempPassword()
    {
        await using var host = await TestEmulator.StartAsync();
        using var client = TestEmulator.Okta(host);
        var caller = host.State.FindCaller(Alice)!;

        using var response = await client.PostAsync($"users/{caller.Id}/lifecycle/expire_password_with_temp_password?revokeSessions=true", null);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(string.IsNullOrEmpty((await TestEmulator.ReadJson(response))["tempPassword"]!.GetValue<string>()));
        Assert.Equal(1, caller.TemporaryPasswordsIssued);
        Assert.Equal(1, caller.SessionsRevoked);
        Assert.Equal("PASSWORD_EXPIRED", caller.Status);
    }

    [Fact]
    public async Task ResetFactors_RemovesFactors()
    {
        await using var host = await TestEmulator.StartAsync();
        using var client = TestEmulator.Okta(host);
        var caller = host.State.FindCaller(Alice)!;

        using var response = await client.PostAsync($"users/{caller.Id}/lifecycle/reset_factors", null);
        using var factors = await client.GetAsync($"users/{caller.Id}/factors");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Empty((await TestEmulator.ReadJson(factors)).AsArray());
        Assert.Empty(caller.Factors);
        Assert.Equal(1, caller.FactorsReset);
    }

    [Fact]
    public async Task Unlock_LockedOutThenActive_BothSucceedAsTheSpecDocuments()
    {
        await using var host = await TestEmulator.StartAsync();
        using var client = TestEmulator.Okta(host);
        var dave = host.State.FindCaller("dave.caller@demo.example")!;
        Assert.Equal("LOCKED_OUT", dave.Status);

        using var first = await client.PostAsync($"users/{dave.Id}/lifecycle/unlock", null);
        using var second = await client.PostAsync($"users/{dave.Id}/lifecycle/unlock", null);

        // unlockUser documents 200, 403, 404 and 429 only: unlocking an ACTIVE user is valid, not a 400.
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal("ACTIVE", dave.Status);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal("ACTIVE", dave.Status);
    }

    [Theory]
    [InlineData("STAGED", "lifecycle/unlock")]
    [InlineData("PROVISIONED", "lifecycle/reset_password?sendEmail=true")]
    [InlineData("SUSPENDED", "lifecycle/expire_password_with_temp_password")]
    [InlineData("DEPROVISIONED", "lifecycle/reset_factors")]
    [InlineData("DEPROVISIONED", "lifecycle/unlock")]
    public async Task Lifecycle_StatusThatForbidsIt_Returns403E0000038(string status, string operation)
    {
        await using var host = await TestEmulator.StartAsync();
        using var client = TestEmulator.Okta(host);
        var caller = host.State.AddCaller($"s{Guid.NewGuid():N}@demo.example", "s@demo.example", "S", "Caller", status);

        using var response = await client.PostAsync($"users/{caller.Id}/{operation}", null);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("E0000038", (await TestEmulator.ReadJson(response))["errorCode"]!.GetValue<string>());
        Assert.Equal(status, caller.Status);
    }

    [Fact]
    public async Task Unlock_DirectorySourcedUser_Returns403E0000032()
    {
        await using var host = await TestEmulator.StartAsync();
        using var client = TestEmulator.Okta(host);
        var caller = host.State.AddCaller($"ad{Guid.NewGuid():N}@demo.example", "ad@demo.example", "A", "D", "LOCKED_OUT");
        host.State.SetCredentialsProvider(caller.Login, "ACTIVE_DIRECTORY");

        using var response = await client.PostAsync($"users/{caller.Id}/lifecycle/unlock", null);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("E0000032", (await TestEmulator.ReadJson(response))["errorCode"]!.GetValue<string>());
        Assert.Equal("LOCKED_OUT", caller.Status);
    }

    [Fact]
    public async Task SearchUsers_MoreThanLimit_PagesWithAfterCursorInLinkNext()
    {
        await using var host = await TestEmulator.StartAsync();
        using var client = TestEmulator.Okta(host);
        var all = host.State.Callers.Count;

        var seen = new List<string>();
        var next = "users?limit=2";
        var pages = 0;
        while (next is not null)
        {
            using var response = await client.GetAsync(next);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            seen.AddRange((await TestEmulator.ReadJson(response)).AsArray().Select(u => u!["id"]!.GetValue<string>()));
            var link = response.Headers.GetValues("Link").FirstOrDefault(l => l.EndsWith("rel=\"next\"", StringComparison.Ordinal));
            next = link?[(link.IndexOf('<', StringComparison.Ordinal) + 1)..link.IndexOf('>', StringComparison.Ordinal)];
            Assert.True(next is null || next.StartsWith(host.BaseUrl.ToString(), StringComparison.Ordinal));
            Assert.True(next is null || next.Contains("after=", StringComparison.Ordinal));
            pages++;
        }

        Assert.Equal(all, seen.Count);
        Assert.Equal(all, seen.Distinct().Count());
        Assert.Equal((all + 1) / 2, pages);
    }

    [Fact]
    public async Task Links_BuiltFromTheRequestHost_NotTheBindAddress()
    {
        await using var host = await TestEmulator.StartAsync();
        using var client = TestEmulator.Okta(host);
        using var request = new HttpRequestMessage(HttpMethod.Get, "users/" + TestEmulator.IdOf(host, Alice));
        request.Headers.Host = "acme.okta.example:8443";

        using var response = await client.SendAsync(request);

        var self = (await TestEmulator.ReadJson(response))["_links"]!["self"]!["href"]!.GetValue<string>();
        Assert.StartsWith("http://acme.okta.example:8443/api/v1/users/", self, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Links_ConfiguredPublicUrl_UsedForLinksAndCanonicalOrg()
    {
        await using var host = await TestEmulator.StartAsync(configure: o => o.PublicUrl = "https://demo.okta.example");
        using var client = TestEmulator.Okta(host);

        using var user = await client.GetAsync("users/" + TestEmulator.IdOf(host, Alice));
        using var anonymous = TestEmulator.Browser(host);
        using var org = await anonymous.GetAsync(".well-known/okta-organization");

        Assert.StartsWith("https://demo.okta.example/api/v1/users/", (await TestEmulator.ReadJson(user))["_links"]!["self"]!["href"]!.GetValue<string>(), StringComparison.Ordinal);
        var metadata = await TestEmulator.ReadJson(org);
        Assert.Equal("https://demo.okta.example", metadata["_links"]!["organization"]!["href"]!.GetValue<string>());
        Assert.Equal("idx", metadata["pipeline"]!.GetValue<string>());
    }

    [Fact]
    public async Task ClassicEngine_PipelineV1AndTacApisAnswer404()
    {
        await using var host = await TestEmulator.StartAsync();
        host.State.ClassicEngine = true;
        using var client = TestEmulator.Okta(host);
        var caller = host.State.FindCaller(Alice)!;

        using var anonymous = TestEmulator.Browser(host);
        using var org = await anonymous.GetAsync(".well-known/okta-organization");
        using var authenticators = await client.GetAsync("authenticators");
        using var tac = await client.PostAsync(
            $"users/{caller.Id}/authenticator-enrollments/tac",
            TestEmulator.JsonBody($"{{\"authenticatorId\":\"{OktaApi.AuthenticatorId("tac")}\",\"profile\":{{\"ttl\":\"60\"}}}}"));

        Assert.Equal("v1", (await TestEmulator.ReadJson(org))["pipeline"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NotFound, authenticators.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, tac.StatusCode);
        Assert.Equal(0, caller.TemporaryAccessCodesIssued);
    }

    [Fact]
    public async Task ClearSessions_Returns204AndCounts()
    {
        await using var host = await TestEmulator.StartAsync();
        using var client = TestEmulator.Okta(host);
        var caller = host.State.FindCaller(Alice)!;

        using var response = await client.DeleteAsync($"users/{caller.Id}/sessions?oauthTokens=true");

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal(1, caller.SessionsRevoked);
    }

    [Theory]
    [InlineData("reset_password?sendEmail=false", "POST")]
    [InlineData("unlock", "POST")]
    [InlineData("sessions", "DELETE")]
    public async Task Lifecycle_UnknownUser_Returns404E0000007(string operation, string method)
    {
        await using var host = await TestEmulator.StartAsync();
        using var client = TestEmulator.Okta(host);
        var path = operation == "sessions" ? "users/00uNOSUCHUSER0000000/sessions" : "users/00uNOSUCHUSER0000000/lifecycle/" + operation;

        using var response = await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("E0000007", (await TestEmulator.ReadJson(response))["errorCode"]!.GetValue<string>());
    }

    [Fact]
    public async Task EnrollTac_TtlAsJsonNumber_Returns400AsTheSpecTypesItAString()
    {
        await using var host = await TestEmulator.StartAsync();
        using var client = TestEmulator.Okta(host);
        var caller = host.State.FindCaller(Alice)!;

        using var response = await client.PostAsync(
            $"users/{caller.Id}/authenticator-enrollments/tac",
            TestEmulator.JsonBody($"{{\"authenticatorId\":\"{OktaApi.AuthenticatorId("tac")}\",\"profile\":{{\"ttl\":60}}}}"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(0, caller.TemporaryAccessCodesIssued);
    }

    [Theory]
    [InlineData("\"60\"")]
    public async Task EnrollTac_TtlString_ReturnsCodeWithExpiry(string ttl)
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var host = await TestEmulator.StartAsync(time);
        using var client = TestEmulator.Okta(host);
        var caller = host.State.FindCaller(Alice)!;
        using var authenticators = await client.GetAsync("authenticators");
        var tacId = (await TestEmulator.ReadJson(authenticators)).AsArray()
            .Single(a => a!["key"]!.GetValue<string>() == "tac")!["id"]!.GetValue<string>();
        Assert.StartsWith("aut", tacId, StringComparison.Ordinal);

        using var response = await client.PostAsync(
            $"users/{caller.Id}/authenticator-enrollments/tac",
            TestEmulator.JsonBody($"{{\"authenticatorId\":\"{tacId}\",\"profile\":{{\"ttl\":{ttl},\"multiUse\":false}}}}"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await TestEmulator.ReadJson(response);
        Assert.Equal("tac", body["type"]!.GetValue<string>());
        Assert.Equal("ACTIVE", body["status"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(body["profile"]!["tac"]!.GetValue<string>()));
        Assert.False(body["profile"]!["multiUse"]!.GetValue<bool>());
        var expires = DateTimeOffset.Parse(body["profile"]!["expiresAt"]!.GetValue<string>(), CultureInfo.InvariantCulture);
        Assert.Equal(time.GetUtcNow().AddMinutes(60).ToUnixTimeSeconds(), expires.ToUnixTimeSeconds());
        Assert.Equal(1, caller.TemporaryAccessCodesIssued);
    }

    [Theory]
    [InlineData(9)]
    [InlineData(14401)]
    public async Task EnrollTac_TtlOutOfRange_Returns400(int ttl)
    {
        await using var host = await TestEmulator.StartAsync();
        using var client = TestEmulator.Okta(host);
        var caller = host.State.FindCaller(Alice)!;

        using var response = await client.PostAsync(
            $"users/{caller.Id}/authenticator-enrollments/tac",
            TestEmulator.JsonBody($"{{\"authenticatorId\":\"{OktaApi.AuthenticatorId("tac")}\",\"profile\":{{\"ttl\":\"{ttl}\",\"multiUse\":false}}}}"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(0, caller.TemporaryAccessCodesIssued);
    }

    [Fact]
    public async Task FailNext_429_CarriesE0000047AndReset_ThenRecovers()
    {
        await using var host = await TestEmulator.StartAsync();
        using var client = TestEmulator.Okta(host);
        host.State.FailNext(429, "/factors");
        var id = TestEmulator.IdOf(host, Alice);

        using var unaffected = await client.GetAsync("users/" + id);
        using var limited = await client.GetAsync($"users/{id}/factors");
        using var after = await client.GetAsync($"users/{id}/factors");

        Assert.Equal(HttpStatusCode.OK, unaffected.StatusCode);
        Assert.Equal((HttpStatusCode)429, limited.StatusCode);
        Assert.Equal("E0000047", (await TestEmulator.ReadJson(limited))["errorCode"]!.GetValue<string>());
        var reset = long.Parse(limited.Headers.GetValues("X-Rate-Limit-Reset").Single(), CultureInfo.InvariantCulture);
        Assert.True(reset > DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 1);
        Assert.Equal("0", limited.Headers.GetValues("X-Rate-Limit-Remaining").Single());
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
    }

    [Fact]
    public async Task SetOutage_EveryCallIs503UntilRestored()
    {
        await using var host = await TestEmulator.StartAsync();
        using var client = TestEmulator.Okta(host);
        var id = TestEmulator.IdOf(host, Alice);

        host.State.SetOutage(true);
        using var down = await client.GetAsync("users/" + id);
        host.State.SetOutage(false);
        using var up = await client.GetAsync("users/" + id);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, down.StatusCode);
        Assert.Equal(HttpStatusCode.OK, up.StatusCode);
    }

    [Fact]
    public async Task Roles_GroupAssignedAndDirect_BothListedWithTheirAssignmentType()
    {
        await using var host = await TestEmulator.StartAsync();
        using var client = TestEmulator.Okta(host);
        host.State.AssignRole("bob.caller@demo.example", "ORG_ADMIN");
        host.State.AssignGroupRole("Helpdesk Leads", "HELP_DESK_ADMIN");
        host.State.AddToGroup("carol.caller@demo.example", "Helpdesk Leads");

        using var erin = await client.GetAsync($"users/{TestEmulator.IdOf(host, "erin.admin@demo.example")}/roles");
        using var bob = await client.GetAsync($"users/{TestEmulator.IdOf(host, "bob.caller@demo.example")}/roles");
        using var carol = await client.GetAsync($"users/{TestEmulator.IdOf(host, "carol.caller@demo.example")}/roles");
        using var alice = await client.GetAsync($"users/{TestEmulator.IdOf(host, Alice)}/roles");
        using var groupRoles = await client.GetAsync($"groups/{EmulatorState.GroupId("Helpdesk Leads")}/roles");

        var erinRole = Assert.Single((await TestEmulator.ReadJson(erin)).AsArray());
        Assert.Equal(("SUPER_ADMIN", "GROUP"), (erinRole!["type"]!.GetValue<string>(), erinRole["assignmentType"]!.GetValue<string>()));
        var bobRole = Assert.Single((await TestEmulator.ReadJson(bob)).AsArray());
        Assert.Equal(("ORG_ADMIN", "USER"), (bobRole!["type"]!.GetValue<string>(), bobRole["assignmentType"]!.GetValue<string>()));
        Assert.Equal("HELP_DESK_ADMIN", Assert.Single((await TestEmulator.ReadJson(carol)).AsArray())!["type"]!.GetValue<string>());
        Assert.Empty((await TestEmulator.ReadJson(alice)).AsArray());
        Assert.Equal("HELP_DESK_ADMIN", Assert.Single((await TestEmulator.ReadJson(groupRoles)).AsArray())!["type"]!.GetValue<string>());
    }

    private static async Task<Uri> StartPush(EmulatorHost host, HttpClient client)
    {
        using var verify = await client.PostAsync(
            $"users/{TestEmulator.IdOf(host, Alice)}/factors/{TestEmulator.FactorOf(host, Alice, "push")}/verify",
            TestEmulator.JsonBody("{\"useNumberMatchingChallenge\":true}"));
        Assert.Equal(HttpStatusCode.Created, verify.StatusCode);
        return new Uri((await TestEmulator.ReadJson(verify))["_links"]!["poll"]!["href"]!.GetValue<string>());
    }
}

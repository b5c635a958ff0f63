using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using Portal.Idp.Okta;

namespace Portal.Idp.Tests.Okta;

public sealed class OktaCallerDirectoryTests
{
    private const string UserId = "00uAlice1234567890";
    private const string FactorId = "opfPush1234567890";
    private const string PollHref = "https://acme.okta.com/api/v1/users/00uAlice1234567890/factors/opfPush1234567890/transactions/v2mst.abcDEF123";
    private static readonly ChallengeContext Context = new("Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0", "203.0.113.7");

    private static string UserJson(string id, string login, string status = "ACTIVE") => new JsonObject
    {
        ["id"] = id,
        ["status"] = status,
        ["profile"] = new JsonObject { ["login"] = login, ["email"] = login, ["firstName"] = "A", ["lastName"] = "B" },
    }.ToJsonString();

    private static string WaitingJson(string? challenge, string href = PollHref)
    {
        var json = new JsonObject
        {
            ["factorResult"] = "WAITING",
            ["expiresAt"] = "2030-01-01T00:05:00.000Z",
            ["_links"] = new JsonObject
            {
                ["poll"] = new JsonObject { ["href"] = href },
                ["cancel"] = new JsonObject { ["href"] = href },
            },
        };
        if (challenge is not null)
        {
            json["_embedded"] = new JsonObject { ["challenge"] = new JsonObject { ["correctAnswer"] = JsonNode.Parse(challenge) } };
        }

        return json.ToJsonString();
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("alice\u0000@demo.example")]
    [InlineData("alice\n@demo.example")]
    public async Task FindCallerAsync_BadInput_InvalidWithoutCallingOkta(string input)
    {
        var handler = new FakeOktaHandler((_, _) => FakeOktaHandler.Json(200, "[]"));

        var result = await Directories.Over(handler).FindCallerAsync(input);

        Assert.Equal(IdpErrorKind.Invalid, result.Error?.Kind);
        Assert.Equal(0, handler.Calls);
    }

    [Fact]
    public async Task FindCallerAsync_TooLong_InvalidWithoutCallingOkta()
    {
        var handler = new FakeOktaHandler((_, _) => FakeOktaHandler.Json(200, "[]"));

        var result = await Directories.Over(handler).FindCallerAsync(new string('a', 257));

        Assert.Equal(IdpErrorKind.Invalid, result.Error?.Kind);
        Assert.Equal(0, handler.Calls);
    }

    [Fact]
    public async Task FindCallerAsync_Injection_SendsEscapedEncodedExpressionWithToken()
    {
        var handler = new FakeOktaHandler((_, _) => FakeOktaHandler.Json(200, "[]"));
        const string Typed = " x\" or profile.login sw \"a ";

        await Directories.Over(handler).FindCallerAsync(Typed);

        var sent = Assert.Single(handler.Sent);
        Assert.Equal(HttpMethod.Get, sent.Method);
        Assert.Equal("/api/v1/users", sent.Uri.AbsolutePath);
        var expected = Uri.EscapeDataString("profile.login eq \"x\\\" or profile.login sw \\\"a\" or profile.email eq \"x\\\" or profile.login sw \\\"a\"");
        Assert.Contains("search=" + expected + "&", sent.Uri.Query, StringComparison.Ordinal);
        Assert.Equal("SSWS " + Directories.Token, sent.Authorization);
    }

    [Fact]
    public async Task FindCallerAsync_OneMatch_ReturnsProfile()
    {
        var handler = new FakeOktaHandler((_, _) => FakeOktaHandler.Json(200, $"[{UserJson(UserId, "alice@demo.example", "LOCKED_OUT")}]"));

        var result = await Directories.Over(handler).FindCallerAsync("alice@demo.example");

        Assert.True(result.IsSuccess);
        Assert.Equal(new CallerProfile(UserId, "alice@demo.example", "alice@demo.example", CallerStatus.LockedOut), result.Value with { Details = CallerDetails.None });
        Assert.Equal("A B", result.Value.Details.DisplayName);
    }

    [Fact]
    public async Task GetCallerAsync_CallerCardFields_ReadForTheScreen_AndLeftOutOfToString()
    {
        var user = new JsonObject
        {
            ["id"] = UserId,
            ["status"] = "LOCKED_OUT",
            ["statusChanged"] = "2026-11-30T21:15:00.000Z",
            ["lastLogin"] = "2026-11-29T08:00:00.000Z",
            ["passwordChanged"] = "2026-01-02T03:04:05.000Z",
            ["profile"] = new JsonObject
            {
                ["login"] = "alice@demo.example",
                ["email"] = "alice@demo.example",
                ["firstName"] = "Alice",
                ["lastName"] = "Caller",
                ["displayName"] = "  Alice C.  ",
                ["title"] = "Payroll Specialist",
                ["department"] = " ",
                ["manager"] = "Morgan Lead",
                ["mobilePhone"] = "+1 555 0100",
            },
        };
        var handler = new FakeOktaHandler((_, _) => FakeOktaHandler.Json(200, user.ToJsonString()));

        var result = await Directories.Over(handler).GetCallerAsync(UserId);

        Assert.True(result.IsSuccess);
        var details = result.Value.Details;
        Assert.Equal("Alice C.", details.DisplayName);
        Assert.Equal("Payroll Specialist", details.Title);
        Assert.Null(details.Department);
        Assert.Equal("Morgan Lead", details.Manager);
        Assert.Equal(DateTimeOffset.Parse("2026-11-30T21:15:00Z", System.Globalization.CultureInfo.InvariantCulture), details.StatusChangedAt);
        Assert.Equal(DateTimeOffset.Parse("2026-11-29T08:00:00Z", System.Globalization.CultureInfo.InvariantCulture), details.LastSignInAt);
        Assert.Equal(DateTimeOffset.Parse("2026-01-02T03:04:05Z", System.Globalization.CultureInfo.InvariantCulture), details.PasswordChangedAt);

        // A profile or its details written to a log by accident carry no PII.
        Assert.DoesNotContain("alice@demo.example", result.Value.ToString(), StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("Payroll", details.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task FindCallerAsync_NoMatch_NotFound()
    {
        var handler = new FakeOktaHandler((_, _) => FakeOktaHandler.Json(200, "[]"));

        var result = await Directories.Over(handler).FindCallerAsync("nobody@demo.example");

        Assert.Equal(IdpErrorKind.NotFound, result.Error?.Kind);
        Assert.Equal("not_found", result.Error?.Code);
    }

    [Fact]
    public async Task FindCallerAsync_TwoMatchesNeitherExactLogin_NotFoundAskingForLogin()
    {
        var handler = new FakeOktaHandler((_, _) => FakeOktaHandler.Json(200, $"[{UserJson("00u1", "one@demo.example")},{UserJson("00u2", "two@demo.example")}]"));

        var result = await Directories.Over(handler).FindCallerAsync("shared@demo.example");

        Assert.Equal(IdpErrorKind.NotFound, result.Error?.Kind);
        Assert.Equal("ambiguous", result.Error?.Code);
        Assert.Contains("exact login", result.Error?.AgentMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FindCallerAsync_TwoMatchesOneExactLogin_ReturnsThatOne()
    {
        var handler = new FakeOktaHandler((_, _) => FakeOktaHandler.Json(200, $"[{UserJson("00u1", "other@demo.example")},{UserJson("00u2", "Shared@demo.example")}]"));

        var result = await Directories.Over(handler).FindCallerAsync("shared@demo.example");

        Assert.Equal("00u2", result.Value.Id);
    }

    [Theory]
    [InlineData("ACTIVE", CallerStatus.Active)]
    [InlineData("PASSWORD_EXPIRED", CallerStatus.PasswordExpired)]
    [InlineData("RECOVERY", CallerStatus.Recovery)]
    [InlineData("SUSPENDED", CallerStatus.Suspended)]
    [InlineData("DEPROVISIONED", CallerStatus.Deprovisioned)]
    [InlineData("STAGED", CallerStatus.Staged)]
    [InlineData("PROVISIONED", CallerStatus.Provisioned)]
    [InlineData("SOMETHING_NEW", CallerStatus.Unknown)]
    public async Task GetCallerAsync_Status_Mapped(string status, CallerStatus expected)
    {
        var handler = new FakeOktaHandler((_, _) => FakeOktaHandler.Json(200, UserJson(UserId, "a@demo.example", status)));

        var result = await Directories.Over(handler).GetCallerAsync(UserId);

        Assert.Equal(expected, result.Value.Status);
        Assert.Equal("/api/v1/users/" + UserId, handler.Sent[0].Uri.AbsolutePath);
    }

    [Theory]
    [InlineData("..")]
    [InlineData("00u/../../authenticators")]
    [InlineData("alice@demo.example")]
    [InlineData("")]
    public async Task GetCallerAsync_MalformedId_InvalidWithoutCallingOkta(string id)
    {
        var handler = new FakeOktaHandler((_, _) => FakeOktaHandler.Json(200, UserJson(UserId, "a@demo.example")));

        var result = await Directories.Over(handler).GetCallerAsync(id);

        Assert.Equal(IdpErrorKind.Invalid, result.Error?.Kind);
        Assert.Equal(0, handler.Calls);
    }

    [Fact]
    public async Task GetCallerAsync_NotFound_MapsE0000007()
    {
        var handler = new FakeOktaHandler((_, _) => FakeOktaHandler.Error(404, "E0000007"));

        var result = await Directories.Over(handler).GetCallerAsync(UserId);

        Assert.Equal(IdpErrorKind.NotFound, result.Error?.Kind);
        Assert.Equal("E0000007", result.Error?.Code);
    }

    [Theory]
    [InlineData("push", "OKTA", "ACTIVE", FactorKind.Push, "okta.push", null)]
    [InlineData("token:software:totp", "OKTA", "ACTIVE", FactorKind.Totp, "okta.totp", null)]
    [InlineData("token:software:totp", "GOOGLE", "ACTIVE", FactorKind.Totp, "okta.totp", null)]
    [InlineData("push", "OKTA", "PENDING_ACTIVATION", FactorKind.Push, null, "not active (status PENDING_ACTIVATION)")]
    [InlineData("token:software:totp", "GOOGLE", "INACTIVE", FactorKind.Totp, null, "not active (status INACTIVE)")]
    [InlineData("sms", "OKTA", "ACTIVE", FactorKind.Sms, null, "SMS/voice/e-mail codes are restricted authenticators and are not accepted")]
    [InlineData("call", "OKTA", "ACTIVE", FactorKind.Call, null, "SMS/voice/e-mail codes are restricted authenticators and are not accepted")]
    [InlineData("email", "OKTA", "ACTIVE", FactorKind.Email, null, "SMS/voice/e-mail codes are restricted authenticators and are not accepted")]
    [InlineData("question", "OKTA", "ACTIVE", FactorKind.Question, null, "security questions are not accepted")]
    [InlineData("signed_nonce", "OKTA", "ACTIVE", FactorKind.SignedNonce, null, "Okta FastPass cannot be challenged remotely")]
    [InlineData("webauthn", "FIDO", "ACTIVE", FactorKind.WebAuthn, null, "security keys cannot be challenged remotely")]
    [InlineData("token:hardware", "YUBICO", "ACTIVE", FactorKind.HardwareToken, null, "not supported")]
    [InlineData("token:software:totp", "SYMANTEC", "ACTIVE", FactorKind.Totp, null, "not supported")]
    [InlineData("push", "CUSTOM", "ACTIVE", FactorKind.Push, null, "not supported")]
    [InlineData("web", "DUO", "ACTIVE", FactorKind.Other, null, "not supported")]
    public async Task ListFactorsAsync_Factor_Classified(string type, string provider, string status, FactorKind kind, string? method, string? reason)
    {
        var json = new JsonArray(new JsonObject
        {
            ["id"] = "fac123",
            ["factorType"] = type,
            ["provider"] = provider,
            ["vendorName"] = provider,
            ["status"] = status,
            ["profile"] = new JsonObject { ["phoneNumber"] = "+1 555 0100" },
        }).ToJsonString();
        var handler = new FakeOktaHandler((_, _) => FakeOktaHandler.Json(200, json));

        var result = await Directories.Over(handler).ListFactorsAsync(UserId);

        var factor = Assert.Single(result.Value);
        Assert.Equal(new CallerFactor("fac123", kind, provider, status == "ACTIVE", method, reason), factor);
        Assert.Equal($"/api/v1/users/{UserId}/factors", handler.Sent[0].Uri.AbsolutePath);
    }

    [Fact]
    public async Task ListFactorsAsync_HostileStatus_NotEchoed()
    {
        const string Json = """[{"id":"fac123","factorType":"push","provider":"OKTA","status":"call alice on +1 555 0100"}]""";
        var handler = new FakeOktaHandler((_, _) => FakeOktaHandler.Json(200, Json));

        var result = await Directories.Over(handler).ListFactorsAsync(UserId);

        Assert.Equal("not active (status unknown)", Assert.Single(result.Value).NotChallengeableReason);
    }

    [Fact]
    public async Task StartPushAsync_NumberChallenge_SendsRequiredHeadersAndBody()
    {
        var handler = new FakeOktaHandler((_, _) => FakeOktaHandler.Json(201, WaitingJson("72")));

        var result = await Directories.Over(handler).StartPushAsync(UserId, FactorId, Context);

        Assert.True(result.IsSuccess);
        Assert.Equal(72, result.Value.CorrectAnswer);
        Assert.Equal(PollHref, result.Value.PollReference);
        Assert.Equal(new DateTimeOffset(2030, 1, 1, 0, 5, 0, TimeSpan.Zero), result.Value.ExpiresAt);
        var sent = Assert.Single(handler.Sent);
        Assert.Equal(HttpMethod.Post, sent.Method);
        Assert.Equal($"/api/v1/users/{UserId}/factors/{FactorId}/verify", sent.Uri.AbsolutePath);
        Assert.Equal(Context.UserAgent, sent.UserAgent);
        Assert.Equal("203.0.113.7", sent.ForwardedFor);
        Assert.Equal("SSWS " + Directories.Token, sent.Authorization);
        Assert.True(JsonNode.Parse(sent.Body)!["useNumberMatchingChallenge"]!.GetValue<bool>());
    }

    [Fact]
    public async Task StartPushAsync_NumericStringAnswer_Accepted()
    {
        var handler = new FakeOktaHandler((_, _) => FakeOktaHandler.Json(201, WaitingJson("\"38\"")));

        var result = await Directories.Over(handler).StartPushAsync(UserId, FactorId, Context);

        Assert.Equal(38, result.Value.CorrectAnswer);
    }

    [Fact]
    public async Task StartPushAsync_EmptyUserAgentAndBadAddress_FallsBackAndOmits()
    {
        var handler = new FakeOktaHandler((_, _) => FakeOktaHandler.Json(201, WaitingJson("72")));

        await Directories.Over(handler).StartPushAsync(UserId, FactorId, new ChallengeContext("", "not-an-ip\r\nX-Evil: 1"));

        var sent = Assert.Single(handler.Sent);
        Assert.Equal("Portal", sent.UserAgent);
        Assert.Null(sent.ForwardedFor);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("null")]
    [InlineData("0")]
    [InlineData("\"abc\"")]
    [InlineData("\"\"")]
    [InlineData("{}")]
    [InlineData("72.5")]
    public async Task StartPushAsync_NoNumberChallenge_Refused(string? challenge)
    {
        var handler = new FakeOktaHandler((_, _) => FakeOktaHandler.Json(201, WaitingJson(challenge)));

        var result = await Directories.Over(handler).StartPushAsync(UserId, FactorId, Context);

        Assert.False(result.IsSuccess);
        Assert.Equal(IdpErrorKind.Invalid, result.Error.Kind);
        Assert.Equal("no_number_challenge", result.Error.Code);
    }

    [Fact]
    public async Task StartPushAsync_NoNumberChallenge_PlainPushWithdrawnOnce()
    {
        var handler = new FakeOktaHandler((request, _) => request.Method == HttpMethod.Post
            ? FakeOktaHandler.Json(201, WaitingJson(null))
            : new HttpResponseMessage(System.Net.HttpStatusCode.NoContent));

        await Directories.Over(handler).StartPushAsync(UserId, FactorId, Context);

        Assert.Equal(2, handler.Calls);
        Assert.Equal(HttpMethod.Delete, handler.Sent[1].Method);
        Assert.Equal(PollHref, handler.Sent[1].Uri.AbsoluteUri);
    }

    [Fact]
    public async Task StartPushAsync_NoNumberChallengeAndForeignCancelLink_NothingSentThere()
    {
        var foreign = PollHref.Replace("acme.okta.com", "evil.example", StringComparison.Ordinal);
        var handler = new FakeOktaHandler((_, _) => FakeOktaHandler.Json(201, WaitingJson(null, foreign)));

        var result = await Directories.Over(handler).StartPushAsync(UserId, FactorId, Context);

        Assert.Equal("no_number_challenge", result.Error?.Code);
        Assert.Equal(1, handler.Calls);
    }

    [Fact]
    public async Task StartPushAsync_NoNumberChallenge_MessageSaysPlainPushNotAccepted()
    {
        var handler = new FakeOktaHandler((_, _) => FakeOktaHandler.Json(201, WaitingJson(null)));

        var result = await Directories.Over(handler).StartPushAsync(UserId, FactorId, Context);

        Assert.Contains("number matching", result.Error?.AgentMessage, StringComparison.Ordinal);
        Assert.Contains("does not accept a plain push", result.Error?.AgentMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartPushAsync_PollLinkToOtherHost_Refused()
    {
        var handler = new FakeOktaHandler((_, _) => FakeOktaHandler.Json(201, WaitingJson("72", PollHref.Replace("acme.okta.com", "evil.example", StringComparison.Ordinal))));

        var result = await Directories.Over(handler).StartPushAsync(UserId, FactorId, Context);

        Assert.Equal("poll_reference_rejected", result.Error?.Code);
    }

    [Fact]
    public async Task StartPushAsync_ServerError_NotRetriedAndOutcomeUnknown()
    {
        var handler = new FakeOktaHandler((_, _) => FakeOktaHandler.Error(503, "E0000009"));

        var result = await Directories.Over(handler).StartPushAsync(UserId, FactorId, Context);

        Assert.Equal(IdpErrorKind.Unavailable, result.Error?.Kind);
        Assert.Equal(OktaErrorMapper.UnavailableWriteMessage, result.Error?.AgentMessage);
        Assert.Equal(1, handler.Calls);
    }

    [Theory]
    [InlineData("WAITING", PushState.Waiting)]
    [InlineData("SUCCESS", PushState.Approved)]
    [InlineData("REJECTED", PushState.Rejected)]
    [InlineData("TIMEOUT", PushState.TimedOut)]
    public async Task PollPushAsync_Result_Mapped(string factorResult, PushState expected)
    {
        var handler = new FakeOktaHandler((_, _) => FakeOktaHandler.Json(200, $$"""{"factorResult":"{{factorResult}}"}"""));

        var result = await Directories.Over(handler).PollPushAsync(UserId, PollHref);

        Assert.Equal(expected, result.Value);
        var sent = Assert.Single(handler.Sent);
        Assert.Equal(PollHref, sent.Uri.AbsoluteUri);
        Assert.Equal(HttpMethod.Get, sent.Method);
    }

    [Theory]
    [InlineData("https://evil.example/api/v1/users/00uAlice1234567890/factors/opfPush1234567890/transactions/v2mst.abc")]
    [InlineData("https://acme.okta.com.evil.example/api/v1/users/00uAlice1234567890/factors/opfPush1234567890/transactions/v2mst.abc")]
    [InlineData("http://acme.okta.com/api/v1/users/00uAlice1234567890/factors/opfPush1234567890/transactions/v2mst.abc")]
    [InlineData("https://acme.okta.com:8443/api/v1/users/00uAlice1234567890/factors/opfPush1234567890/transactions/v2mst.abc")]
    [InlineData("https://user:pass@acme.okta.com/api/v1/users/00uAlice1234567890/factors/opfPush1234567890/transactions/v2mst.abc")]
    [InlineData("https://acme.okta.com/api/v1/users/00uMallory123456789/factors/opfPush1234567890/transactions/v2mst.abc")]
    [InlineData("https://acme.okta.com/api/v1/users/00uAlice1234567890/factors/opfPush1234567890/transactions/../../../../00uMallory1/factors/f/transactions/t")]
    [InlineData("https://acme.okta.com/api/v1/users/00uAlice1234567890/factors/../../00uMallory1/factors/f/transactions/t")]
    [InlineData("https://acme.okta.com/api/v1/users/00uAlice1234567890/factors/opfPush1234567890/transactions/v2mst.abc%2F..%2F..")]
    [InlineData("https://acme.okta.com/api/v1/users/00uAlice1234567890/factors/opfPush1234567890/transactions/v2mst.abc?x=1")]
    [InlineData("https://acme.okta.com/api/v1/users/00uAlice1234567890/factors/opfPush1234567890/verify")]
    [InlineData("https://acme.okta.com/api/v1/users/00uAlice1234567890/lifecycle/reset_factors/transactions/x")]
    [InlineData("/api/v1/users/00uAlice1234567890/factors/opfPush1234567890/transactions/v2mst.abc")]
    [InlineData("//evil.example/api/v1/users/00uAlice1234567890/factors/opfPush1234567890/transactions/v2mst.abc")]
    [InlineData("file:///etc/passwd")]
    [InlineData("")]
    public async Task PollPushAsync_UntrustedReference_InvalidWithoutSendingToken(string reference)
    {
        var handler = new FakeOktaHandler((_, _) => FakeOktaHandler.Json(200, """{"factorResult":"SUCCESS"}"""));

        var result = await Directories.Over(handler).PollPushAsync(UserId, reference);

        Assert.Equal(IdpErrorKind.Invalid, result.Error?.Kind);
        Assert.Equal("poll_reference_rejected", result.Error?.Code);
        Assert.Equal(0, handler.Calls);
    }

    [Theory]
    [InlineData("12345")]
    [InlineData("123456789")]
    [InlineData("12345a")]
    [InlineData("")]
    [InlineData("١٢٣٤٥٦")]
    public async Task VerifyTotpAsync_MalformedCode_InvalidWithoutCallingOkta(string code)
    {
        var handler = new FakeOktaHandler((_, _) => FakeOktaHandler.Json(200, """{"factorResult":"SUCCESS"}"""));

        var result = await Directories.Over(handler).VerifyTotpAsync(UserId, FactorId, code, Context);

        Assert.Equal(IdpErrorKind.Invalid, result.Error?.Kind);
        Assert.Equal(0, handler.Calls);
    }

    [Fact]
    public async Task VerifyTotpAsync_Success_AcceptedAndCodeSentInBody()
    {
        var handler = new FakeOktaHandler((_, _) => FakeOktaHandler.Json(200, """{"factorResult":"SUCCESS"}"""));

        var result = await Directories.Over(handler).VerifyTotpAsync(UserId, FactorId, "123456", Context);

        Assert.Equal(TotpOutcome.Accepted, result.Value);
        var sent = Assert.Single(handler.Sent);
        Assert.Equal("123456", JsonNode.Parse(sent.Body)!["passCode"]!.GetValue<string>());
        Assert.Null(JsonNode.Parse(sent.Body)!["useNumberMatchingChallenge"]);
        Assert.Equal(Context.UserAgent, sent.UserAgent);
    }

    [Fact]
    public async Task VerifyTotpAsync_WrongCode_Invalid()
    {
        var handler = new FakeOktaHandler((_, _) => FakeOktaHandler.Error(403, "E0000068", "Your passcode doesn't match our records. Please try again."));

        var result = await Directories.Over(handler).VerifyTotpAsync(UserId, FactorId, "123456", Context);

        Assert.Equal(TotpOutcome.Invalid, result.Value);
    }

    [Fact]
    public async Task VerifyTotpAsync_ReplayAsResult_Replayed()
    {
        var handler = new FakeOktaHandler((_, _) => FakeOktaHandler.Json(200, """{"factorResult":"PASSCODE_REPLAYED"}"""));

        var result = await Directories.Over(handler).VerifyTotpAsync(UserId, FactorId, "12345678", Context);

        Assert.Equal(TotpOutcome.Replayed, result.Value);
    }

    [Fact]
    public async Task VerifyTotpAsync_ReplayAsErrorCause_Replayed()
    {
        var handler = new FakeOktaHandler((_, _) => FakeOktaHandler.Error(403, "E0000068", "PASSCODE_REPLAYED"));

        var result = await Directories.Over(handler).VerifyTotpAsync(UserId, FactorId, "123456", Context);

        Assert.Equal(TotpOutcome.Replayed, result.Value);
    }

    [Fact]
    public async Task VerifyTotpAsync_ReplayAsErrorCode_Replayed()
    {
        var handler = new FakeOktaHandler((_, _) => FakeOktaHandler.Error(400, "PASSCODE_REPLAYED"));

        var result = await Directories.Over(handler).VerifyTotpAsync(UserId, FactorId, "123456", Context);

        Assert.Equal(TotpOutcome.Replayed, result.Value);
    }

    [Fact]
    public async Task VerifyTotpAsync_AccessDenied_IsAnErrorNotAnOutcome()
    {
        var handler = new FakeOktaHandler((_, _) => FakeOktaHandler.Error(403, "E0000006"));

        var result = await Directories.Over(handler).VerifyTotpAsync(UserId, FactorId, "123456", Context);

        Assert.Equal(IdpErrorKind.AccessDenied, result.Error?.Kind);
    }

    [Theory]
    [InlineData(PasswordResetKind.SendEmail, "/lifecycle/reset_password", "?sendEmail=true", "{}", null)]
    [InlineData(PasswordResetKind.OneTimeLink, "/lifecycle/reset_password", "?sendEmail=false", """{"resetPasswordUrl":"https://acme.okta.com/reset_password/abc"}""", "https://acme.okta.com/reset_password/abc")]
    [InlineData(PasswordResetKind.TemporaryPassword, "/lifecycle/expire_password_with_temp_password", "?revokeSessions=true", """{"tempPassword":"Xy7-temp"}""", "Xy7-temp")]
    public async Task ResetPasswordAsync_Kind_CallsLifecycleAndReturnsSecret(PasswordResetKind kind, string path, string query, string json, string? secret)
    {
        var handler = new FakeOktaHandler((_, _) => FakeOktaHandler.Json(200, json));

        var result = await Directories.Over(handler).ResetPasswordAsync(UserId, kind);

        Assert.Equal(new PasswordResetOutcome(kind, secret), result.Value);
        var sent = Assert.Single(handler.Sent);
        Assert.Equal(HttpMethod.Post, sent.Method);
        Assert.Equal($"/api/v1/users/{UserId}{path}", sent.Uri.AbsolutePath);
        Assert.Equal(query, sent.Uri.Query);
    }

    [Fact]
    public async Task ResetPasswordAsync_SendEmailEmptyBody_Succeeds()
    {
        var handler = new FakeOktaHandler((_, _) => new HttpResponseMessage(System.Net.HttpStatusCode.OK));

        var result = await Directories.Over(handler).ResetPasswordAsync(UserId, PasswordResetKind.SendEmail);

        Assert.True(result.IsSuccess);
    }

    [Theory]
    [InlineData(204)]
    [InlineData(200)]
    public async Task RevokeSessionsAsync_NoContentOrOk_Succeeds(int status)
    {
        var handler = new FakeOktaHandler((_, _) => new HttpResponseMessage((System.Net.HttpStatusCode)status));

        var result = await Directories.Over(handler).RevokeSessionsAsync(UserId);

        Assert.True(result.IsSuccess);
        var sent = Assert.Single(handler.Sent);
        Assert.Equal(HttpMethod.Delete, sent.Method);
        Assert.Equal($"/api/v1/users/{UserId}/sessions?oauthTokens=true", sent.Uri.PathAndQuery);
    }

    [Fact]
    public async Task UnlockAsync_RefusedForStatus_ConflictNamingTheStatusReadAfterwards()
    {
        var handler = new FakeOktaHandler((request, _) => request.Method == HttpMethod.Post
            ? FakeOktaHandler.Error(403, "E0000038", "This operation is not allowed in the user's current status.")
            : FakeOktaHandler.Json(200, UserJson(UserId, "a@demo.example", "DEPROVISIONED")));

        var result = await Directories.Over(handler).UnlockAsync(UserId);

        Assert.Equal(IdpErrorKind.Conflict, result.Error?.Kind);
        Assert.Equal("E0000038", result.Error?.Code);
        Assert.Contains("DEPROVISIONED", result.Error?.AgentMessage, StringComparison.Ordinal);
        Assert.DoesNotContain("role", result.Error?.AgentMessage, StringComparison.Ordinal);
        Assert.Equal($"/api/v1/users/{UserId}/lifecycle/unlock", handler.Sent[0].Uri.AbsolutePath);
        Assert.Equal($"/api/v1/users/{UserId}", handler.Sent[1].Uri.AbsolutePath);
    }

    [Fact]
    public async Task UnlockAsync_ActiveUserAnswered200_Success()
    {
        var handler = new FakeOktaHandler((_, _) => FakeOktaHandler.Json(200, "{}"));

        var result = await Directories.Over(handler).UnlockAsync(UserId);

        Assert.True(result.IsSuccess);
    }

    [Fact]
    public async Task ResetFactorsAsync_Ok_PostsLifecycle()
    {
        var handler = new FakeOktaHandler((_, _) => new HttpResponseMessage(System.Net.HttpStatusCode.OK));

        var result = await Directories.Over(handler).ResetFactorsAsync(UserId);

        Assert.True(result.IsSuccess);
        Assert.Equal(HttpMethod.Post, handler.Sent[0].Method);
        Assert.Equal($"/api/v1/users/{UserId}/lifecycle/reset_factors", handler.Sent[0].Uri.AbsolutePath);
    }

    [Theory]
    [InlineData(60, true, 60, false)]
    [InlineData(1, false, 10, true)]
    [InlineData(100000, true, 14400, false)]
    public async Task IssueTemporaryAccessAsync_Lifetime_ClampedAndSent(int minutes, bool usableOnce, int ttl, bool multiUse)
    {
        var handler = new FakeOktaHandler((request, _) => request.Method == HttpMethod.Get
            ? FakeOktaHandler.Json(200, """[{"id":"autPwd","key":"okta_password","status":"ACTIVE"},{"id":"autTac123","key":"tac","status":"ACTIVE"}]""")
            : FakeOktaHandler.Json(200, new JsonObject
            {
                ["type"] = "tac",
                ["id"] = "aen1",
                ["status"] = "ACTIVE",
                ["profile"] = new JsonObject { ["tac"] = "n@C*bU26", ["multiUse"] = multiUse, ["expiresAt"] = "2030-01-01T01:00:00.000Z" },
            }.ToJsonString()));

        var result = await Directories.Over(handler).IssueTemporaryAccessAsync(UserId, TimeSpan.FromMinutes(minutes), usableOnce);

        Assert.Equal("n@C*bU26", result.Value.Value);
        Assert.Equal(new DateTimeOffset(2030, 1, 1, 1, 0, 0, TimeSpan.Zero), result.Value.ExpiresAt);
        Assert.Equal(usableOnce, result.Value.UsableOnce);
        Assert.Equal("/api/v1/authenticators", handler.Sent[0].Uri.AbsolutePath);
        var post = handler.Sent[1];
        Assert.Equal($"/api/v1/users/{UserId}/authenticator-enrollments/tac", post.Uri.AbsolutePath);
        var body = JsonNode.Parse(post.Body)!;
        Assert.Equal("autTac123", body["authenticatorId"]!.GetValue<string>());
        Assert.Equal(ttl.ToString(CultureInfo.InvariantCulture), body["profile"]!["ttl"]!.GetValue<string>());
        Assert.Equal(multiUse, body["profile"]!["multiUse"]!.GetValue<bool>());
    }

    [Theory]
    [InlineData("""[{"id":"autPwd","key":"okta_password","status":"ACTIVE"}]""")]
    [InlineData("""[{"id":"autTac123","key":"tac","status":"INACTIVE"}]""")]
    public async Task IssueTemporaryAccessAsync_TacNotEnabled_InvalidWithoutEnrolling(string authenticators)
    {
        var handler = new FakeOktaHandler((_, _) => FakeOktaHandler.Json(200, authenticators));

        var result = await Directories.Over(handler).IssueTemporaryAccessAsync(UserId, TimeSpan.FromHours(1), true);

        Assert.Equal(IdpErrorKind.Invalid, result.Error?.Kind);
        Assert.Equal("tac_not_enabled", result.Error?.Code);
        Assert.Contains("not enabled", result.Error?.AgentMessage, StringComparison.Ordinal);
        Assert.Equal(1, handler.Calls);
    }

    [Fact]
    public async Task GetCallerAsync_RateLimitedBriefly_WaitsOnTheClockAndRetriesOnce()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2025, 1, 1, 12, 0, 0, TimeSpan.Zero));
        var handler = new FakeOktaHandler((_, index) => index == 0
            ? RateLimited(time.GetUtcNow(), resetInSeconds: 3)
            : FakeOktaHandler.Json(200, UserJson(UserId, "a@demo.example")));
        var resetAt = time.GetUtcNow().AddSeconds(3);
        var call = Directories.Over(handler, time).GetCallerAsync(UserId);

        // The wait is on the injected clock: nothing is sent again until it has moved past the reset. (Once it
        // has, the retry may already be out while the call is still finishing, so only the time before counts.)
        while (!call.IsCompleted)
        {
            await WaitUntil(() => handler.Calls >= 1);
            if (time.GetUtcNow() < resetAt)
            {
                Assert.Equal(1, handler.Calls);
            }

            time.Advance(TimeSpan.FromSeconds(1));
            await Task.Yield();
            await Task.Delay(5);
        }

        var result = await call;
        Assert.True(result.IsSuccess);
        Assert.Equal(2, handler.Calls);
        Assert.True(time.GetUtcNow() >= new DateTimeOffset(2025, 1, 1, 12, 0, 4, TimeSpan.Zero));
    }

    [Fact]
    public async Task GetCallerAsync_RateLimitedLong_ReturnsRateLimitedWithoutWaiting()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2025, 1, 1, 12, 0, 0, TimeSpan.Zero));
        var handler = new FakeOktaHandler((_, _) => RateLimited(time.GetUtcNow(), resetInSeconds: 40));

        var result = await Directories.Over(handler, time).GetCallerAsync(UserId);

        Assert.Equal(IdpErrorKind.RateLimited, result.Error?.Kind);
        Assert.Equal(TimeSpan.FromSeconds(41), result.Error?.RetryAfter);
        Assert.Equal(1, handler.Calls);
    }

    [Fact]
    public async Task GetCallerAsync_RateLimitedTwice_RetriesOnlyOnce()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2025, 1, 1, 12, 0, 0, TimeSpan.Zero));
        var handler = new FakeOktaHandler((_, _) => RateLimited(time.GetUtcNow(), resetInSeconds: 1));
        var call = Directories.Over(handler, time).GetCallerAsync(UserId);

        while (!call.IsCompleted)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(5);
        }

        var result = await call;
        Assert.Equal(IdpErrorKind.RateLimited, result.Error?.Kind);
        Assert.Equal(2, handler.Calls);
    }

    [Fact]
    public async Task UnlockAsync_RateLimitedBriefly_NeverRetried()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2025, 1, 1, 12, 0, 0, TimeSpan.Zero));
        var handler = new FakeOktaHandler((_, _) => RateLimited(time.GetUtcNow(), resetInSeconds: 1));

        var result = await Directories.Over(handler, time).UnlockAsync(UserId);

        Assert.Equal(IdpErrorKind.RateLimited, result.Error?.Kind);
        Assert.Equal(TimeSpan.FromSeconds(2), result.Error?.RetryAfter);
        Assert.Equal(1, handler.Calls);
    }

    [Fact]
    public async Task GetCallerAsync_TransportFailure_UnavailableNothingChanged()
    {
        var handler = new FakeOktaHandler((_, _) => throw new HttpRequestException("connection refused"));

        var result = await Directories.Over(handler).GetCallerAsync(UserId);

        Assert.Equal(IdpErrorKind.Unavailable, result.Error?.Kind);
        Assert.Equal("unreachable", result.Error?.Code);
        Assert.Equal(OktaErrorMapper.UnavailableReadMessage, result.Error?.AgentMessage);
    }

    [Fact]
    public async Task ResetFactorsAsync_Timeout_UnavailableOutcomeUnknown()
    {
        var handler = new FakeOktaHandler((_, _) => throw new TaskCanceledException("timed out"));

        var result = await Directories.Over(handler).ResetFactorsAsync(UserId);

        Assert.Equal(IdpErrorKind.Unavailable, result.Error?.Kind);
        Assert.Equal("timeout", result.Error?.Code);
        Assert.Equal(OktaErrorMapper.UnavailableWriteMessage, result.Error?.AgentMessage);
    }

    [Fact]
    public async Task GetCallerAsync_CallerCancels_Throws()
    {
        using var cancellation = new CancellationTokenSource();
        var handler = new FakeOktaHandler((_, _) =>
        {
            cancellation.Cancel();
            throw new TaskCanceledException();
        });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Directories.Over(handler).GetCallerAsync(UserId, cancellation.Token));
    }

    [Fact]
    public async Task GetCallerAsync_MalformedJson_UnavailableBadResponse()
    {
        var handler = new FakeOktaHandler((_, _) => FakeOktaHandler.Json(200, "{not json"));

        var result = await Directories.Over(handler).GetCallerAsync(UserId);

        Assert.Equal("bad_response", result.Error?.Code);
    }

    private static HttpResponseMessage RateLimited(DateTimeOffset now, int resetInSeconds)
    {
        var response = FakeOktaHandler.Error(429, "E0000047");
        response.Headers.Date = now;
        response.Headers.TryAddWithoutValidation("X-Rate-Limit-Reset", now.AddSeconds(resetInSeconds).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture));
        return response;
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        for (var i = 0; i < 500 && !condition(); i++)
        {
            await Task.Delay(10);
        }
    }
}

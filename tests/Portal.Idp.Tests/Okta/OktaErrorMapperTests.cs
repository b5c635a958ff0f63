using Polly.CircuitBreaker;
using Polly.Timeout;
using Portal.Idp.Okta;

namespace Portal.Idp.Tests.Okta;

public sealed class OktaErrorMapperTests
{
    [Theory]
    [InlineData(404, "E0000007", IdpErrorKind.NotFound, "E0000007")]
    [InlineData(404, null, IdpErrorKind.NotFound, "http_404")]
    [InlineData(403, "E0000068", IdpErrorKind.InvalidPasscode, "E0000068")]
    [InlineData(400, "E0000001", IdpErrorKind.Invalid, "E0000001")]
    [InlineData(401, "E0000011", IdpErrorKind.Unauthorized, "E0000011")]
    [InlineData(401, null, IdpErrorKind.Unauthorized, "http_401")]
    [InlineData(403, "E0000006", IdpErrorKind.AccessDenied, "E0000006")]
    [InlineData(429, "E0000047", IdpErrorKind.RateLimited, "E0000047")]
    [InlineData(429, null, IdpErrorKind.RateLimited, "http_429")]
    [InlineData(500, "E0000009", IdpErrorKind.Unavailable, "E0000009")]
    [InlineData(503, null, IdpErrorKind.Unavailable, "http_503")]
    [InlineData(502, null, IdpErrorKind.Unavailable, "http_502")]
    [InlineData(409, null, IdpErrorKind.Invalid, "http_409")]
    public void FromResponse_StatusAndCode_MapsToKind(int status, string? code, IdpErrorKind kind, string expectedCode)
    {
        var error = OktaErrorMapper.FromResponse(status, code is null ? null : new OktaErrorBody { ErrorCode = code }, isRead: true, TimeSpan.FromSeconds(7));

        Assert.Equal(kind, error.Kind);
        Assert.Equal(expectedCode, error.Code);
    }

    [Fact]
    public void FromResponse_Unauthorized_TellsAgentToAskAdministrator()
    {
        var error = OktaErrorMapper.FromResponse(401, new OktaErrorBody { ErrorCode = "E0000011" }, isRead: true);

        Assert.Equal("the portal's Okta API token was rejected: ask your administrator to check the tenant's Okta settings", error.AgentMessage);
    }

    [Fact]
    public void FromResponse_AccessDenied_MentionsSuperAdmin()
    {
        var error = OktaErrorMapper.FromResponse(403, new OktaErrorBody { ErrorCode = "E0000006" }, isRead: false);

        Assert.Equal("the portal's Okta role cannot do this for this user (administrators need a super-admin)", error.AgentMessage);
    }

    [Fact]
    public void FromResponse_RateLimited_CarriesRetryAfter()
    {
        var error = OktaErrorMapper.FromResponse(429, new OktaErrorBody { ErrorCode = "E0000047" }, isRead: false, TimeSpan.FromSeconds(42));

        Assert.Equal(TimeSpan.FromSeconds(42), error.RetryAfter);
    }

    [Theory]
    [InlineData(true, "Okta did not answer; nothing was changed")]
    [InlineData(false, "Okta did not answer; the outcome is unknown, check the account before retrying")]
    public void FromResponse_ServerError_MessageDependsOnMethod(bool isRead, string message)
    {
        var error = OktaErrorMapper.FromResponse(503, null, isRead);

        Assert.Equal(message, error.AgentMessage);
    }

    [Fact]
    public void FromResponse_SummaryWithUserData_IsNeverPassedOn()
    {
        var body = new OktaErrorBody
        {
            ErrorCode = "E0000007",
            ErrorSummary = "Not found: Resource not found: alice.caller@demo.example (User)",
            ErrorCauses = [new OktaErrorCause { ErrorSummary = "alice.caller@demo.example" }],
        };

        var error = OktaErrorMapper.FromResponse(404, body, isRead: true);

        Assert.DoesNotContain("alice", error.AgentMessage, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("alice", error.Code, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("E0000007 <script>")]
    [InlineData("alice.caller@demo.example")]
    [InlineData("line\nbreak")]
    public void FromResponse_MalformedErrorCode_FallsBackToStatus(string code)
    {
        var error = OktaErrorMapper.FromResponse(404, new OktaErrorBody { ErrorCode = code }, isRead: true);

        Assert.Equal("http_404", error.Code);
    }

    public static TheoryData<Exception, string> TransportFailures => new()
    {
        { new HttpRequestException("connection refused"), "unreachable" },
        { new TimeoutRejectedException(), "timeout" },
        { new TaskCanceledException(), "timeout" },
        { new BrokenCircuitException(), "circuit_open" },
    };

    [Theory]
    [MemberData(nameof(TransportFailures))]
    public void FromException_TransportFailure_IsUnavailable(Exception exception, string code)
    {
        var error = OktaErrorMapper.FromException(exception, isRead: false);

        Assert.NotNull(error);
        Assert.Equal(IdpErrorKind.Unavailable, error.Kind);
        Assert.Equal(code, error.Code);
        Assert.Equal(OktaErrorMapper.UnavailableWriteMessage, error.AgentMessage);
    }

    [Fact]
    public void FromException_ProgrammingError_IsNotMapped()
    {
        Assert.Null(OktaErrorMapper.FromException(new InvalidOperationException(), isRead: true));
    }

    [Fact]
    public void RetryAfter_ResetAndServerDate_IsDifferencePlusOneSecond()
    {
        var serverDate = new DateTimeOffset(2025, 1, 1, 12, 0, 0, TimeSpan.Zero);
        var reset = serverDate.AddSeconds(20).ToUnixTimeSeconds();

        // The local clock is 5 minutes off; the server's Date is what counts.
        var wait = OktaErrorMapper.RetryAfter(reset, serverDate, serverDate.AddMinutes(5));

        Assert.Equal(TimeSpan.FromSeconds(21), wait);
    }

    [Fact]
    public void RetryAfter_NoServerDate_UsesNow()
    {
        var now = new DateTimeOffset(2025, 1, 1, 12, 0, 0, TimeSpan.Zero);

        var wait = OktaErrorMapper.RetryAfter(now.AddSeconds(3).ToUnixTimeSeconds(), null, now);

        Assert.Equal(TimeSpan.FromSeconds(4), wait);
    }

    [Fact]
    public void RetryAfter_ResetInThePast_IsAtLeastOneSecond()
    {
        var now = new DateTimeOffset(2025, 1, 1, 12, 0, 0, TimeSpan.Zero);

        var wait = OktaErrorMapper.RetryAfter(now.AddSeconds(-30).ToUnixTimeSeconds(), now, now);

        Assert.Equal(TimeSpan.FromSeconds(1), wait);
    }

    [Fact]
    public void RetryAfter_FromHeaders_ReadsResetAndDate()
    {
        var serverDate = new DateTimeOffset(2025, 1, 1, 12, 0, 0, TimeSpan.Zero);
        using var response = new HttpResponseMessage(System.Net.HttpStatusCode.TooManyRequests);
        response.Headers.Date = serverDate;
        response.Headers.TryAddWithoutValidation("X-Rate-Limit-Reset", serverDate.AddSeconds(9).ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture));

        var wait = OktaErrorMapper.RetryAfter(response.Headers, serverDate.AddHours(1));

        Assert.Equal(TimeSpan.FromSeconds(10), wait);
    }

    [Fact]
    public void RetryAfter_NoResetHeader_IsOneMinute()
    {
        using var response = new HttpResponseMessage(System.Net.HttpStatusCode.TooManyRequests);

        Assert.Equal(TimeSpan.FromSeconds(60), OktaErrorMapper.RetryAfter(response.Headers, DateTimeOffset.UnixEpoch));
    }

    [Theory]
    [InlineData("PASSCODE_REPLAYED", null, null, true)]
    [InlineData("E0000068", "PASSCODE_REPLAYED", null, true)]
    [InlineData("E0000068", null, "Passcode_Replayed", true)]
    [InlineData("E0000068", "Invalid Passcode/Answer", "Your passcode doesn't match our records.", false)]
    [InlineData(null, null, null, false)]
    public void MentionsReplay_AnyField_IsFound(string? code, string? summary, string? cause, bool expected)
    {
        var body = new OktaErrorBody
        {
            ErrorCode = code,
            ErrorSummary = summary,
            ErrorCauses = cause is null ? null : [new OktaErrorCause { ErrorSummary = cause }],
        };

        Assert.Equal(expected, OktaErrorMapper.MentionsReplay(body));
    }
}

namespace Portal.Audit.Tests;

public sealed class MaskingTests
{
    [Theory]
    [InlineData("john.doe@example.com", "j***@e***.com")]
    [InlineData("John.Doe@Example.COM", "j***@e***.com")]
    [InlineData("a@mail.corp.example.org", "a***@e***.org")]
    [InlineData("first.middle.last@sub.example.co.uk", "f***@c***.uk")]
    [InlineData("x@localhost", "x***@l***")]
    [InlineData("weird@name@example.com", "w***@e***.com")]
    [InlineData("@example.com", "***@e***.com")]
    [InlineData("  jane@example.net  ", "j***@e***.net")]
    [InlineData("jane@example.net.", "j***@e***.net")]
    [InlineData("jdoe", "j***")]
    [InlineData("DOMAIN\\jdoe", "d***")]
    [InlineData("émile@exämple.fr", "é***@e***.fr")]
    [InlineData("", "***")]
    [InlineData("   ", "***")]
    [InlineData(null, "***")]
    public void Email_Value_IsMasked(string? input, string expected) => Assert.Equal(expected, PiiMask.Email(input));

    [Fact]
    public void Email_SurrogatePairFirst_KeepsWholeCharacter()
    {
        var masked = PiiMask.Email("😀abc@example.com");

        Assert.Equal("😀***@e***.com", masked);
    }

    [Theory]
    [InlineData("john.doe@example.com")]
    [InlineData("jdoe")]
    [InlineData("a@b.c.d")]
    public void Email_AlreadyMasked_IsUnchanged(string login)
    {
        var once = PiiMask.Email(login);

        Assert.Equal(once, PiiMask.Email(once));
    }

    [Theory]
    [InlineData("203.0.113.77", "203.0.113.0/24")]
    [InlineData("10.1.2.3", "10.1.2.0/24")]
    [InlineData(" 198.51.100.255 ", "198.51.100.0/24")]
    [InlineData("2001:db8:1234:5678:9abc:def0:1234:5678", "2001:db8:1234::/48")]
    [InlineData("2001:0db8:abcd:0012::1", "2001:db8:abcd::/48")]
    [InlineData("::1", "::/48")]
    [InlineData("::ffff:203.0.113.9", "203.0.113.0/24")]
    [InlineData("::ffff:cb00:7109", "203.0.113.0/24")]
    public void Truncate_Address_KeepsOnlyTheNetwork(string address, string expected) =>
        Assert.Equal(expected, ClientNetwork.Truncate(address));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("not-an-ip")]
    [InlineData("999.1.1.1")]
    [InlineData("203.0.113.7:443")]
    [InlineData("1")]
    [InlineData("10.1")]
    [InlineData("2001:db8::g")]
    public void Truncate_Invalid_ReturnsNull(string? address) => Assert.Null(ClientNetwork.Truncate(address));

    [Theory]
    [InlineData("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.86", "Edge")]
    [InlineData("Mozilla/5.0 (Linux; Android 10; HD1913) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.135 Mobile Safari/537.36 EdgA/131.0.2903.87", "Edge")]
    [InlineData("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", "Chrome")]
    [InlineData("Mozilla/5.0 (iPhone; CPU iPhone OS 17_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.6778.134 Mobile/15E148 Safari/604.1", "Chrome")]
    [InlineData("Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", "Firefox")]
    [InlineData("Mozilla/5.0 (iPhone; CPU iPhone OS 17_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/133.0 Mobile/15E148 Safari/605.1.15", "Firefox")]
    [InlineData("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.2 Safari/605.1.15", "Safari")]
    [InlineData("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 OPR/115.0.0.0", "Other")]
    [InlineData("curl/8.11.1", "Other")]
    [InlineData("", "Other")]
    [InlineData(null, "Other")]
    public void Of_UserAgent_ReturnsFamily(string? userAgent, string expected) => Assert.Equal(expected, UserAgentFamily.Of(userAgent));

    [Theory]
    [InlineData("INC-12345", "INC-12345")]
    [InlineData("#4711", "#4711")]
    [InlineData("proj/ticket_1.2", "proj/ticket_1.2")]
    [InlineData("INC 123 <script>alert(1)</script>", "INC123scriptalert1/script")]
    [InlineData("call from john.doe@example.com", "callfromjohn.doeexample.com")]
    [InlineData("ü€", null)]
    [InlineData("   ", null)]
    [InlineData("", null)]
    [InlineData(null, null)]
    public void Sanitise_Ticket_KeepsSafeCharacters(string? input, string? expected) => Assert.Equal(expected, TicketRef.Sanitise(input));

    [Fact]
    public void Sanitise_LongTicket_IsCutTo64()
    {
        var result = TicketRef.Sanitise(new string('A', 50) + " " + new string('B', 50));

        Assert.Equal(new string('A', 50) + new string('B', 14), result);
    }

    [Fact]
    public void Email_DomainStartingWithADot_MasksAnEmptyLabel() => Assert.Equal("j***@***.com", PiiMask.Email("john@.com"));

    [Theory]
    [InlineData("Mozilla/5.0 (Macintosh) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15", "Safari")]
    [InlineData("Mozilla/5.0 (Macintosh) AppleWebKit/605.1.15 (KHTML, like Gecko) Safari/605.1.15", "Other")]
    [InlineData("Mozilla/5.0 (Macintosh) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1", "Other")]
    public void Of_Safari_NeedsBothSafariAndVersion(string userAgent, string expected) => Assert.Equal(expected, UserAgentFamily.Of(userAgent));
}

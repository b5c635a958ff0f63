using Portal.Idp.Okta;

namespace Portal.Idp.Tests.Okta;

public sealed class OktaFilterTests
{
    [Theory]
    [InlineData("alice@demo.example", "\"alice@demo.example\"")]
    [InlineData("", "\"\"")]
    [InlineData("a\"b", "\"a\\\"b\"")]
    [InlineData("a\\b", "\"a\\\\b\"")]
    [InlineData("\\\"", "\"\\\\\\\"\"")]
    [InlineData("x\" or profile.login sw \"a", "\"x\\\" or profile.login sw \\\"a\"")]
    [InlineData("x\\\" or status eq \"ACTIVE", "\"x\\\\\\\" or status eq \\\"ACTIVE\"")]
    public void Quote_Value_EscapesBackslashesAndQuotes(string value, string expected)
    {
        Assert.Equal(expected, OktaFilter.Quote(value));
    }

    [Theory]
    [InlineData("x\" or profile.login sw \"a")]
    [InlineData("x\\\" or profile.login sw \\\"a")]
    [InlineData("\"\"\"")]
    [InlineData("\\\\\\")]
    public void Quote_InjectionAttempt_StaysOneLiteral(string value)
    {
        var quoted = OktaFilter.Quote(value);

        // Reading the literal back the way Okta does must end exactly at the last character and give the value back.
        Assert.Equal(value, Unquote(quoted, out var end));
        Assert.Equal(quoted.Length, end);
    }

    [Fact]
    public void LoginOrEmail_Value_MatchesLoginOrEmailExactly()
    {
        Assert.Equal("profile.login eq \"a\\\"b\" or profile.email eq \"a\\\"b\"", OktaFilter.LoginOrEmail("a\"b"));
    }

    private static string Unquote(string literal, out int end)
    {
        Assert.Equal('"', literal[0]);
        var value = new System.Text.StringBuilder();
        var i = 1;
        while (i < literal.Length)
        {
            var c = literal[i++];
            if (c == '"')
            {
                end = i;
                return value.ToString();
            }

            if (c == '\\')
            {
                c = literal[i++];
            }

            value.Append(c);
        }

        throw new InvalidOperationException("Unterminated literal.");
    }
}

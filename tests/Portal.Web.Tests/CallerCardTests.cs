using Portal.Idp;
using Portal.Web.Features.Console;

namespace Portal.Web.Tests;

public sealed class CallerCardTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 30, 21, 50, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(0, "just now")]
    [InlineData(59, "just now")]
    [InlineData(60, "1 minute ago")]
    [InlineData(35 * 60, "35 minutes ago")]
    [InlineData(3600, "1 hour ago")]
    [InlineData(5 * 3600 + 59, "5 hours ago")]
    [InlineData(86400, "1 day ago")]
    [InlineData(400 * 86400, "400 days ago")]
    [InlineData(-120, "in the future")]
    public void Ago_LargestWholeUnit(int secondsAgo, string expected) =>
        Assert.Equal(expected, CallerCard.Ago(Now.AddSeconds(-secondsAgo), Now));

    [Fact]
    public void When_UtcTimeAndAgo_WhateverTheOffsetGiven() =>
        Assert.Equal("2026-11-30 21:15 UTC (35 minutes ago)", CallerCard.When(new DateTimeOffset(2026, 11, 30, 22, 15, 0, TimeSpan.FromHours(1)), Now));

    [Fact]
    public void Status_NotActive_SaysSinceWhen_Active_SaysStatusOnly()
    {
        Assert.Equal("locked out since 2026-11-30 21:15 UTC (35 minutes ago)", CallerCard.Status(CallerStatus.LockedOut, Now.AddMinutes(-35), Now));
        Assert.Equal("active", CallerCard.Status(CallerStatus.Active, Now.AddMinutes(-35), Now));
        Assert.Equal("locked out", CallerCard.Status(CallerStatus.LockedOut, null, Now));
    }

    [Theory]
    [InlineData(0.0, true)]
    [InlineData(6.9, true)]
    [InlineData(7.0, false)]
    [InlineData(300.0, false)]
    public void RecentlyEnrolled_WithinSevenDays(double daysAgo, bool expected)
    {
        var factor = new CallerFactor("f", FactorKind.Push, "OKTA", true, VerificationMethods.OktaPush, null) { EnrolledAt = Now.AddDays(-daysAgo) };

        Assert.Equal(expected, CallerCard.RecentlyEnrolled(factor, Now));
    }

    [Fact]
    public void RecentlyEnrolled_NoDate_NotFlagged() =>
        Assert.False(CallerCard.RecentlyEnrolled(new CallerFactor("f", FactorKind.Push, "OKTA", true, null, null), Now));
}

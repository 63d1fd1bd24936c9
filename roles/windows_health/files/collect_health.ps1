# windows_health collector: one JSON object for runner/evaluators/windows_health.py (schema 1).
# Windows PowerShell 5.1 compatible (Server 2016-2025, Windows 10/11). Reads only; changes nothing.
[CmdletBinding()]
param(
    [int]$EventHours = 24,
    [int]$EventTop = 10,
    [int]$EventMax = 10000
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 2

function ConvertTo-IsoUtc($Value) {
    # ISO 8601 in UTC ('o': 2024-11-26T08:30:15.1234567Z) whatever the shell: left as a DateTime,
    # ConvertTo-Json writes \/Date(ms)\/ on Windows PowerShell 5.1 and ISO 8601 only on PowerShell 7
    if ($null -eq $Value) { return $null }
    return ([DateTime]$Value).ToUniversalTime().ToString('o')
}

$result = [ordered]@{
    schema       = 1
    collector    = 'windows_health'
    hostname     = $env:COMPUTERNAME
    ps_version   = $PSVersionTable.PSVersion.ToString()
    collected_at = ConvertTo-IsoUtc ([DateTime]::UtcNow)
}

try {
    $os = Get-CimInstance -ClassName Win32_OperatingSystem
    $result.os = [ordered]@{
        available      = $true
        Caption        = $os.Caption
        Version        = $os.Version
        LastBootUpTime = ConvertTo-IsoUtc $os.LastBootUpTime
    }
} catch {
    $result.os = [ordered]@{ available = $false; reason = "Win32_OperatingSystem query failed: $($_.Exception.Message)" }
}

try {
    $disks = @(Get-CimInstance -ClassName Win32_LogicalDisk -Filter 'DriveType=3' |
        Select-Object -Property 'DeviceID', 'VolumeName', 'FileSystem', 'DriveType', 'Size', 'FreeSpace')
    $result.volumes = [ordered]@{ available = $true; items = $disks }
} catch {
    $result.volumes = [ordered]@{ available = $false; reason = "Win32_LogicalDisk query failed: $($_.Exception.Message)" }
}

try {
    $rename = (Get-ItemProperty -Path 'HKLM:\SYSTEM\CurrentControlSet\Control\Session Manager' `
            -Name PendingFileRenameOperations -ErrorAction SilentlyContinue).PendingFileRenameOperations
    $renameCount = @($rename | Where-Object { $_ }).Count
    $result.reboot = [ordered]@{
        available                 = $true
        cbs_reboot_pending        = Test-Path 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending'
        wu_reboot_required        = Test-Path 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update\RebootRequired'
        pending_file_rename       = $renameCount -gt 0
        pending_file_rename_count = $renameCount
    }
} catch {
    $result.reboot = [ordered]@{ available = $false; reason = "reading the pending-reboot registry keys failed: $($_.Exception.Message)" }
}

try {
    $services = @(Get-Service | Where-Object { $_.StartType -eq 'Automatic' } | ForEach-Object {
            $trigger = $false
            if ($_.Status -ne 'Running') {
                $trigger = Test-Path "HKLM:\SYSTEM\CurrentControlSet\Services\$($_.Name)\TriggerInfo"
            }
            [pscustomobject]@{
                Name         = $_.Name
                DisplayName  = $_.DisplayName
                # enum names ('Running', 'Automatic'), as PowerShell 7 with -EnumsAsStrings would write them
                Status       = [string]$_.Status
                StartType    = [string]$_.StartType
                TriggerStart = $trigger
            }
        })
    $result.services = [ordered]@{ available = $true; items = $services }
} catch {
    $result.services = [ordered]@{ available = $false; reason = "Get-Service failed: $($_.Exception.Message)" }
}

try {
    $now = Get-Date
    $since = $now.AddHours(-$EventHours)
    # HEALTH-WIN-06 counts a fixed 24 hours (the same every run, so runs compare): one read covers both
    $day = $now.AddHours(-24)
    $first = if ($since -lt $day) { $since } else { $day }
    $read = @()
    try {
        # newest first, at most EventMax: a log flooded with errors cannot stall the collector
        $read = @(Get-WinEvent -FilterHashtable @{ LogName = 'System'; Level = 1, 2; StartTime = $first } -MaxEvents $EventMax)
    } catch {
        # Get-WinEvent throws when nothing matches ("No events were found..."): that is 0, not a failure
        if ($_.FullyQualifiedErrorId -notlike 'NoMatchingEventsFound*') { throw }
    }
    $events = @($read | Where-Object { $_.TimeCreated -ge $since })
    $lastDay = @($read | Where-Object { $_.TimeCreated -ge $day })
    $top = @($events | Group-Object -Property 'ProviderName', 'Id' | Sort-Object Count -Descending | Select-Object -First $EventTop |
            ForEach-Object {
                $newest = $_.Group | Sort-Object TimeCreated -Descending | Select-Object -First 1
                [pscustomobject]@{
                    ProviderName = $newest.ProviderName
                    Id           = $newest.Id
                    Level        = [int]$newest.Level  # a byte, not an enum: the same number on every shell
                    Count        = $_.Count
                    Last         = ConvertTo-IsoUtc $newest.TimeCreated
                    Message      = ([string]$newest.Message -split "`r?`n")[0]
                }
            })
    $result.events = [ordered]@{
        available  = $true
        hours      = $EventHours
        critical   = @($events | Where-Object { $_.Level -eq 1 }).Count
        error      = @($events | Where-Object { $_.Level -eq 2 }).Count
        top        = $top
        errors_24h = $lastDay.Count
        max_events = $EventMax
        truncated  = ($read.Count -ge $EventMax)
    }
} catch {
    $result.events = [ordered]@{ available = $false; reason = "reading the System event log failed: $($_.Exception.Message)" }
}

$result | ConvertTo-Json -Depth 5 -Compress

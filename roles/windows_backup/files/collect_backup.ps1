# windows_backup collector: one JSON object for runner/evaluators/windows_backup.py (schema 1).
# Windows PowerShell 5.1 compatible (Server 2016-2025, Windows 10/11). Reads only; changes nothing.
# Probes, whichever product is present: veeam (Veeam Backup & Replication PowerShell: Get-VBRJob and each job's
# FindLastSession()), veeam_agent ('Veeam Agent' event log, event 190 = job finished), wsb (Get-WBSummary).
[CmdletBinding()]
param(
    [int]$AgentEventHours = 192,
    [int]$AgentEventMax = 50
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
    collector    = 'windows_backup'
    hostname     = $env:COMPUTERNAME
    ps_version   = $PSVersionTable.PSVersion.ToString()
    collected_at = ConvertTo-IsoUtc ([DateTime]::UtcNow)
}

# Veeam Backup & Replication: module since v11, snap-in before
try {
    $loaded = $false
    if (Get-Module -ListAvailable -Name Veeam.Backup.PowerShell) {
        Import-Module Veeam.Backup.PowerShell -WarningAction SilentlyContinue | Out-Null
        $loaded = $true
    } elseif (Get-PSSnapin -Registered -Name VeeamPSSnapIn -ErrorAction SilentlyContinue) {
        Add-PSSnapin VeeamPSSnapIn | Out-Null
        $loaded = $true
    }
    if (-not $loaded) {
        $result.veeam = [ordered]@{
            available = $false
            reason    = 'Veeam Backup & Replication PowerShell (module Veeam.Backup.PowerShell / snap-in VeeamPSSnapIn) not installed'
        }
    } else {
        $version = ''
        $setup = 'HKLM:\SOFTWARE\Veeam\Veeam Backup and Replication'
        if (Test-Path -LiteralPath $setup) {
            $core = Get-ChildItem -Path 'C:\Program Files\Veeam\Backup and Replication\Backup\Veeam.Backup.Core.dll' -ErrorAction SilentlyContinue
            if ($null -ne $core) { $version = [string]$core.VersionInfo.ProductVersion }
        }
        $jobs = @()
        foreach ($job in @(Get-VBRJob -WarningAction SilentlyContinue)) {
            $session = $job.FindLastSession()
            $last = $null
            if ($null -ne $session) {
                # enum names ('Success', 'Stopped'), as PowerShell 7 with -EnumsAsStrings would write them
                $last = [ordered]@{
                    Result       = [string]$session.Result
                    State        = [string]$session.State
                    CreationTime = ConvertTo-IsoUtc $session.CreationTime
                    EndTime      = ConvertTo-IsoUtc $session.EndTime
                }
            }
            $jobs += [ordered]@{
                Name              = $job.Name
                JobType           = [string]$job.JobType
                IsScheduleEnabled = [bool]$job.IsScheduleEnabled
                last_session      = $last
            }
        }
        $result.veeam = [ordered]@{ available = $true; reason = ''; version = $version; jobs = @($jobs) }
    }
} catch {
    $result.veeam = [ordered]@{ available = $false; reason = "Veeam probe failed: $($_.Exception.Message)" }
}

# Veeam Agent for Microsoft Windows: no job API; its event log records every finished session (event 190)
try {
    $log = Get-WinEvent -ListLog 'Veeam Agent' -ErrorAction SilentlyContinue
    if ($null -eq $log) {
        $result.veeam_agent = [ordered]@{
            available = $false
            reason    = "event log 'Veeam Agent' not found (Veeam Agent for Microsoft Windows not installed)"
        }
    } else {
        $since = [int64]$AgentEventHours * 3600000
        $filter = "*[System[(EventID=190) and TimeCreated[timediff(@SystemTime) <= $since]]]"
        $events = @(Get-WinEvent -LogName 'Veeam Agent' -FilterXPath $filter -MaxEvents $AgentEventMax -ErrorAction SilentlyContinue |
            ForEach-Object {
                [ordered]@{ Id = $_.Id; TimeCreated = ConvertTo-IsoUtc $_.TimeCreated; Level = [int]$_.Level; Message = [string]$_.Message }
            })
        $svc = Get-Service -Name VeeamEndpointBackupSvc -ErrorAction SilentlyContinue
        $result.veeam_agent = [ordered]@{ available = $true; reason = ''; service = $null; events = @($events) }
        if ($null -ne $svc) { $result.veeam_agent.service = [string]$svc.Status }
    }
} catch {
    $result.veeam_agent = [ordered]@{ available = $false; reason = "Veeam Agent probe failed: $($_.Exception.Message)" }
}

# Windows Server Backup
try {
    if (-not (Get-Command -Name Get-WBSummary -ErrorAction SilentlyContinue)) {
        $result.wsb = [ordered]@{ available = $false; reason = 'Get-WBSummary not found (Windows Server Backup feature not installed)' }
    } else {
        $s = Get-WBSummary
        $policy = Get-WBPolicy -ErrorAction SilentlyContinue
        $result.wsb = [ordered]@{
            available         = $true
            reason            = ''
            policy_configured = ($null -ne $policy)
            summary           = [ordered]@{
                NextBackupTime             = ConvertTo-IsoUtc $s.NextBackupTime
                NumberOfVersions           = $s.NumberOfVersions
                LastSuccessfulBackupTime   = ConvertTo-IsoUtc $s.LastSuccessfulBackupTime
                LastBackupTime             = ConvertTo-IsoUtc $s.LastBackupTime
                LastBackupTarget           = [string]$s.LastBackupTarget
                DetailedMessage            = [string]$s.DetailedMessage
                LastBackupResultHR         = $s.LastBackupResultHR
                LastBackupResultDetailedHR = $s.LastBackupResultDetailedHR
                CurrentOperationStatus     = [string]$s.CurrentOperationStatus
            }
        }
    }
} catch {
    $result.wsb = [ordered]@{ available = $false; reason = "Get-WBSummary failed: $($_.Exception.Message)" }
}

$result | ConvertTo-Json -Depth 5 -Compress

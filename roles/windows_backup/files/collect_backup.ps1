# windows_backup collector: one JSON object for runner/evaluators/windows_backup.py (schema 1).
# Windows PowerShell 5.1 compatible (Server 2016-2025, Windows 10/11). Reads only; changes nothing.
# Probes, whichever product is present: veeam (Veeam Backup & Replication PowerShell: Get-VBRJob and each job's
# FindLastSession(), retention and restore points, repositories and their free space, backup copy jobs,
# scale-out tiers and their offload events, SureBackup jobs), veeam_agent ('Veeam Agent' event log, event 190 =
# job finished), wsb (Get-WBSummary). Each Veeam sub-probe fails on its own: a cmdlet missing in this version
# gives that part available = false with the reason, never a failed script.
[CmdletBinding()]
param(
    [int]$AgentEventHours = 192,
    [int]$AgentEventMax = 50,
    [int]$VeeamMaxJobs = 200
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 2

function ConvertTo-IsoUtc($Value) {
    # ISO 8601 in UTC ('o': 2024-11-26T08:30:15.1234567Z) whatever the shell: left as a DateTime,
    # ConvertTo-Json writes \/Date(ms)\/ on Windows PowerShell 5.1 and ISO 8601 only on PowerShell 7
    if ($null -eq $Value) { return $null }
    return ([DateTime]$Value).ToUniversalTime().ToString('o')
}

function Get-PropertyValue($Object, [string]$Name) {
    # a property this Veeam version may not have: $null instead of a strict-mode error
    if ($null -eq $Object) { return $null }
    if ($Object.PSObject.Properties.Match($Name).Count -eq 0) { return $null }
    return $Object.$Name
}

function Get-Bytes($Size) {
    # Veeam's size objects (CachedFreeSpace / CachedTotalSpace) as a number of bytes
    if ($null -eq $Size) { return $null }
    return [uint64]$Size.InBytesAsUInt64
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
        # backups (Get-VBRBackup: one CBackup per job, JobId) for the restore points of each job
        $backupsByJob = @{}
        $backupsReason = ''
        try {
            foreach ($b in @(Get-VBRBackup -WarningAction SilentlyContinue)) { $backupsByJob[[string]$b.JobId] = $b }
        } catch {
            $backupsReason = "Get-VBRBackup failed: $($_.Exception.Message)"
        }
        $allJobs = @(Get-VBRJob -WarningAction SilentlyContinue)
        $jobs = @()
        foreach ($job in @($allJobs | Select-Object -First $VeeamMaxJobs)) {
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
            # retention: CBackupJob.BackupStorageOptions (v11, v12), else Get-VBRJobOptions
            $retention = $null
            $retentionReason = ''
            try {
                $storage = Get-PropertyValue $job 'BackupStorageOptions'
                if ($null -eq $storage) { $storage = Get-PropertyValue (Get-VBRJobOptions -Job $job) 'BackupStorageOptions' }
                if ($null -eq $storage) {
                    $retentionReason = 'the job has no BackupStorageOptions (no retention of its own)'
                } else {
                    $retention = [ordered]@{
                        RetentionType    = [string](Get-PropertyValue $storage 'RetentionType')
                        RetainCycles     = Get-PropertyValue $storage 'RetainCycles'
                        RetainDaysToKeep = Get-PropertyValue $storage 'RetainDaysToKeep'
                    }
                }
            } catch {
                $retentionReason = "retention not readable: $($_.Exception.Message)"
            }
            $repository = $null
            try {
                $target = $job.GetTargetRepository()
                if ($null -ne $target) { $repository = [ordered]@{ Id = [string]$target.Id; Name = [string]$target.Name } }
            } catch {
                $repository = $null
            }
            # restore points per backed-up object (Get-VBRRestorePoint -Backup: VMName, CreationTime)
            $points = [ordered]@{ available = $false; reason = $backupsReason; objects = @() }
            if ($backupsReason -eq '') {
                $backup = $backupsByJob[[string]$job.Id]
                if ($null -eq $backup) {
                    $points = [ordered]@{ available = $true; reason = 'no backup of this job in the database'; objects = @() }
                } else {
                    try {
                        $objects = @(Get-VBRRestorePoint -Backup $backup -WarningAction SilentlyContinue |
                            Group-Object -Property VMName | Select-Object -First 100 | ForEach-Object {
                                $sorted = @($_.Group | Sort-Object -Property CreationTime)
                                [ordered]@{
                                    Name   = [string]$_.Name
                                    Count  = [int]$_.Count
                                    Oldest = ConvertTo-IsoUtc $sorted[0].CreationTime
                                    Newest = ConvertTo-IsoUtc $sorted[-1].CreationTime
                                }
                            })
                        $points = [ordered]@{ available = $true; reason = ''; objects = @($objects) }
                    } catch {
                        $points = [ordered]@{ available = $false; reason = "Get-VBRRestorePoint failed: $($_.Exception.Message)"; objects = @() }
                    }
                }
            }
            $jobs += [ordered]@{
                Id                = [string]$job.Id
                Name              = $job.Name
                JobType           = [string]$job.JobType
                IsScheduleEnabled = [bool]$job.IsScheduleEnabled
                last_session      = $last
                retention         = $retention
                retention_reason  = $retentionReason
                repository        = $repository
                restore_points    = $points
            }
        }

        # repositories: Get-VBRBackupRepository (simple) and -ScaleOut (their extents, capacity and archive tiers)
        $repositories = [ordered]@{ available = $false; reason = ''; items = @(); scale_out = @() }
        try {
            $repoItems = @()
            $sobrs = @()
            foreach ($r in @(Get-VBRBackupRepository -WarningAction SilentlyContinue)) {
                $container = $r.GetContainer()
                $free = $null
                $total = $null
                if ($null -ne $container) {
                    $free = Get-Bytes $container.CachedFreeSpace
                    $total = Get-Bytes $container.CachedTotalSpace
                }
                $repoItems += [ordered]@{
                    Id = [string]$r.Id; Name = [string]$r.Name; Type = [string]$r.Type; ScaleOut = ''
                    FreeBytes = $free; TotalBytes = $total
                }
            }
            foreach ($s in @(Get-VBRBackupRepository -ScaleOut -WarningAction SilentlyContinue)) {
                $extentNames = @()
                foreach ($e in @(Get-PropertyValue $s 'Extent')) {
                    if ($null -eq $e) { continue }
                    $r = $e.Repository
                    $container = $r.GetContainer()
                    $free = $null
                    $total = $null
                    if ($null -ne $container) {
                        $free = Get-Bytes $container.CachedFreeSpace
                        $total = Get-Bytes $container.CachedTotalSpace
                    }
                    $extentNames += [string]$e.Name
                    $repoItems += [ordered]@{
                        Id = [string]$r.Id; Name = [string]$e.Name; Type = [string]$r.Type; ScaleOut = [string]$s.Name
                        FreeBytes = $free; TotalBytes = $total
                    }
                }
                $capacity = $null
                $capacityCopy = $null
                $archive = $null
                if ((Get-PropertyValue $s 'EnableCapacityTier') -eq $true) {
                    $extent = Get-PropertyValue $s 'CapacityExtent'
                    if ($null -ne $extent) { $capacity = [string]$extent.Repository.Name }
                    $copyPolicy = Get-PropertyValue $s 'CapacityTierCopyPolicyEnabled'
                    if ($null -ne $copyPolicy) { $capacityCopy = [bool]$copyPolicy }
                }
                if ((Get-PropertyValue $s 'ArchiveTierEnabled') -eq $true) {
                    $extent = Get-PropertyValue $s 'ArchiveExtent'
                    if ($null -ne $extent) { $archive = [string]$extent.Repository.Name }
                }
                $sobrs += [ordered]@{
                    Id = [string]$s.Id; Name = [string]$s.Name; Extents = @($extentNames)
                    CapacityTier = $capacity; CapacityTierCopy = $capacityCopy; ArchiveTier = $archive
                }
            }
            $repositories = [ordered]@{ available = $true; reason = ''; items = @($repoItems); scale_out = @($sobrs) }
        } catch {
            $repositories = [ordered]@{ available = $false; reason = "Get-VBRBackupRepository failed: $($_.Exception.Message)"; items = @(); scale_out = @() }
        }

        # backup copy jobs: Get-VBRBackupCopyJob (BackupJob = source jobs, Target = repository); last session from
        # the same job in Get-VBRJob
        $copyJobs = [ordered]@{ available = $false; reason = ''; items = @() }
        if (-not (Get-Command -Name Get-VBRBackupCopyJob -ErrorAction SilentlyContinue)) {
            $copyJobs.reason = 'Get-VBRBackupCopyJob not available in this Veeam Backup & Replication version'
        } else {
            try {
                $copyItems = @()
                foreach ($cj in @(Get-VBRBackupCopyJob -WarningAction SilentlyContinue | Select-Object -First $VeeamMaxJobs)) {
                    $sources = @()
                    foreach ($src in @(Get-PropertyValue $cj 'BackupJob')) { if ($null -ne $src) { $sources += [string]$src.Name } }
                    $copyLast = $null
                    $same = @($allJobs | Where-Object { [string]$_.Id -eq [string]$cj.Id })
                    if ($same.Count -gt 0) {
                        $copySession = $same[0].FindLastSession()
                        if ($null -ne $copySession) {
                            $copyLast = [ordered]@{
                                Result       = [string]$copySession.Result
                                State        = [string]$copySession.State
                                CreationTime = ConvertTo-IsoUtc $copySession.CreationTime
                                EndTime      = ConvertTo-IsoUtc $copySession.EndTime
                            }
                        }
                    }
                    $copyItems += [ordered]@{
                        Name         = [string]$cj.Name
                        SourceJobs   = @($sources)
                        Target       = [string](Get-PropertyValue $cj 'Target')
                        Enabled      = [bool](Get-PropertyValue $cj 'JobEnabled')
                        LastResult   = [string](Get-PropertyValue $cj 'LastResult')
                        last_session = $copyLast
                    }
                }
                $copyJobs = [ordered]@{ available = $true; reason = ''; items = @($copyItems) }
            } catch {
                $copyJobs = [ordered]@{ available = $false; reason = "Get-VBRBackupCopyJob failed: $($_.Exception.Message)"; items = @() }
            }
        }

        # scale-out offload (capacity / archive tier) results: event 40002 of the 'Veeam Backup' event log
        $offload = [ordered]@{ available = $false; reason = ''; events = @() }
        try {
            if ($null -eq (Get-WinEvent -ListLog 'Veeam Backup' -ErrorAction SilentlyContinue)) {
                $offload.reason = "event log 'Veeam Backup' not found"
            } else {
                $events = @(Get-WinEvent -LogName 'Veeam Backup' -FilterXPath '*[System[(EventID=40002)]]' -MaxEvents $AgentEventMax -ErrorAction SilentlyContinue |
                    ForEach-Object {
                        [ordered]@{ Id = $_.Id; TimeCreated = ConvertTo-IsoUtc $_.TimeCreated; Level = [int]$_.Level; Message = [string]$_.Message }
                    })
                $offload = [ordered]@{ available = $true; reason = ''; events = @($events) }
            }
        } catch {
            $offload = [ordered]@{ available = $false; reason = "event log 'Veeam Backup' not readable: $($_.Exception.Message)"; events = @() }
        }

        # restore verification: Get-VBRSureBackupJob (v12), Get-VSBJob (v11 and before)
        $sure = [ordered]@{ available = $false; reason = ''; cmdlet = ''; items = @() }
        try {
            $sureItems = @()
            if (Get-Command -Name Get-VBRSureBackupJob -ErrorAction SilentlyContinue) {
                foreach ($sb in @(Get-VBRSureBackupJob | Select-Object -First $VeeamMaxJobs)) {
                    $linked = @()
                    foreach ($l in @(Get-PropertyValue $sb 'LinkedJob')) {
                        $linkedJob = Get-PropertyValue $l 'Job'
                        if ($null -ne $linkedJob) { $linked += [string]$linkedJob.Name }
                    }
                    $lastRun = Get-PropertyValue $sb 'LastRun'
                    $sureItems += [ordered]@{
                        Name       = [string]$sb.Name
                        Enabled    = [bool](Get-PropertyValue $sb 'IsEnabled')
                        LastResult = [string](Get-PropertyValue $sb 'LastResult')
                        LastRun    = ConvertTo-IsoUtc $lastRun
                        LinkedJobs = @($linked)
                    }
                }
                $sure = [ordered]@{ available = $true; reason = ''; cmdlet = 'Get-VBRSureBackupJob'; items = @($sureItems) }
            } elseif (Get-Command -Name Get-VSBJob -ErrorAction SilentlyContinue) {
                foreach ($sb in @(Get-VSBJob | Select-Object -First $VeeamMaxJobs)) {
                    $sbSession = $sb.FindLastSession()
                    $lastRun = $null
                    if ($null -ne $sbSession) { $lastRun = $sbSession.CreationTime }
                    $sureItems += [ordered]@{
                        Name       = [string]$sb.Name
                        Enabled    = [bool]$sb.IsScheduleEnabled
                        LastResult = [string]$sb.GetLastResult()
                        LastRun    = ConvertTo-IsoUtc $lastRun
                        LinkedJobs = @()
                    }
                }
                $sure = [ordered]@{ available = $true; reason = ''; cmdlet = 'Get-VSBJob'; items = @($sureItems) }
            } else {
                $sure.reason = 'neither Get-VBRSureBackupJob nor Get-VSBJob is available'
            }
        } catch {
            $sure = [ordered]@{ available = $false; reason = "SureBackup jobs not readable: $($_.Exception.Message)"; cmdlet = ''; items = @() }
        }

        $result.veeam = [ordered]@{
            available      = $true
            reason         = ''
            version        = $version
            jobs           = @($jobs)
            jobs_total     = $allJobs.Count
            repositories   = $repositories
            copy_jobs      = $copyJobs
            offload        = $offload
            surebackup     = $sure
        }
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

$result | ConvertTo-Json -Depth 8 -Compress
